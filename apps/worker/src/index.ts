/** Public entry of @patchbay/worker. */
export {};
