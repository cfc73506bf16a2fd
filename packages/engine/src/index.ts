/** Public entry of @patchbay/engine. */
export {};
