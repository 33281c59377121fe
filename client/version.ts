// What the client reports in CONNECT (lang/version, shown in server monitoring).
export const CLIENT_LANG = 'sluice.js';
export const CLIENT_VERSION = '0.1.0';
