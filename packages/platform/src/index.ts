/** Public entry of @patchbay/platform. */
export {};
