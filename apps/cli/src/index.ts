/** Public entry of @patchbay/cli. */
export {};
