/** Public entry of @patchbay/expression. */
export {};
