/** Public entry of @patchbay/server. */
export {};
