/** Public entry of @patchbay/connectors. */
export {};
