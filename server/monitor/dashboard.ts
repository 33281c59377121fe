// The live dashboard at / of the monitoring port: plain files (HTML, one script, one style sheet)
// read once when the monitor starts and served as they are; the page polls the JSON endpoints.
// No build step: the files sit in ./dashboard/ beside this module in the sources, and the build
// copies them to dist/dashboard/, which is the same relative place for the bundled code.

import { readFile } from 'node:fs/promises';
import { HttpAnswer, type EndpointHandler } from './http.ts';

/** Path on the monitoring port -> file in the dashboard folder, with its content type. */
export const DASHBOARD_FILES: ReadonlyArray<readonly [path: string, file: string, contentType: string]> = [
  ['/', 'index.html', 'text/html; charset=utf-8'],
  ['/dashboard.js', 'dashboard.js', 'text/javascript; charset=utf-8'],
  ['/dashboard.css', 'dashboard.css', 'text/css; charset=utf-8'],
];

export function dashboardDir(): URL {
  return new URL('./dashboard/', import.meta.url);
}

export async function dashboardEndpoints(dir: URL = dashboardDir()): Promise<Map<string, EndpointHandler>> {
  const out = new Map<string, EndpointHandler>();
  for (const [path, file, contentType] of DASHBOARD_FILES) {
    const body = await readFile(new URL(file, dir));
    out.set(path, () => new HttpAnswer(200, body, contentType));
  }
  return out;
}
