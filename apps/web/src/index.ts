/** Public entry of @patchbay/web. */
export {};
