/** This Netsync's version (package.json's), for `netsync --version` and the app's About. */
export const VERSION = '0.1.0';
