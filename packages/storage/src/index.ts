/** Public entry of @patchbay/storage. */
export {};
