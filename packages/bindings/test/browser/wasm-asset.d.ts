// esbuild's `file` loader turns an imported .wasm file into the URL of the copied asset.
declare module '*.wasm' {
  const url: string;
  export default url;
}
