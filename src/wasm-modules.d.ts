/** `.wasm` files are imported as compiled modules (Workers refuse to compile WASM from bytes at run time). */
declare module '*.wasm' {
  const module: WebAssembly.Module;
  export default module;
}
