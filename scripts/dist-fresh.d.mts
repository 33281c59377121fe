// Types for dist-fresh.mjs (imported by the TypeScript benchmarks).
export declare const SOURCE_DIRS: readonly string[];
export declare const STAMP_FILE: string;
export declare function newestSourceMtimeMs(root: string): number;
export declare function distIsFresh(root: string): boolean;
