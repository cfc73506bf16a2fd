/** Public entry of @patchbay/solution. */
export {};
