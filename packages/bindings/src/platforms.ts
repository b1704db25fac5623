/**
 * The prebuilt addons, one npm package each (napi-rs naming: `<platform>-<arch>[-<abi>]`). This
 * table, `napi.targets` in package.json and the folders under `npm/` list the same platforms (a
 * test holds them together); a release builds each on its own machine and packs its folder.
 */
export interface Platform {
  /** The napi-rs suffix: the package is `@commons-sync/bindings-<abi>`. */
  abi: string;
  /** The Rust target triple that `napi build` compiles for it. */
  rustTarget: string;
  platform: NodeJS.Platform;
  arch: string;
  /** Linux only: which C library the addon links against. */
  libc?: 'glibc' | 'musl';
}

export const PLATFORMS: readonly Platform[] = Object.freeze([
  {
    abi: 'linux-x64-gnu',
    rustTarget: 'x86_64-unknown-linux-gnu',
    platform: 'linux',
    arch: 'x64',
    libc: 'glibc',
  },
  {
    abi: 'linux-x64-musl',
    rustTarget: 'x86_64-unknown-linux-musl',
    platform: 'linux',
    arch: 'x64',
    libc: 'musl',
  },
  {
    abi: 'linux-arm64-gnu',
    rustTarget: 'aarch64-unknown-linux-gnu',
    platform: 'linux',
    arch: 'arm64',
    libc: 'glibc',
  },
  {
    abi: 'linux-arm64-musl',
    rustTarget: 'aarch64-unknown-linux-musl',
    platform: 'linux',
    arch: 'arm64',
    libc: 'musl',
  },
  { abi: 'darwin-x64', rustTarget: 'x86_64-apple-darwin', platform: 'darwin', arch: 'x64' },
  { abi: 'darwin-arm64', rustTarget: 'aarch64-apple-darwin', platform: 'darwin', arch: 'arm64' },
  { abi: 'win32-x64-msvc', rustTarget: 'x86_64-pc-windows-msvc', platform: 'win32', arch: 'x64' },
  {
    abi: 'win32-arm64-msvc',
    rustTarget: 'aarch64-pc-windows-msvc',
    platform: 'win32',
    arch: 'arm64',
  },
] satisfies Platform[]);

/** The C library of this Linux process: glibc reports its version, musl does not. */
function runtimeLibc(): 'glibc' | 'musl' {
  const report = process.report?.getReport() as { header?: { glibcVersionRuntime?: string } };
  return report?.header?.glibcVersionRuntime ? 'glibc' : 'musl';
}

/** The platform entry of this process, or a description of it when no addon is built for it. */
export function currentPlatform(): Platform | string {
  const { platform, arch } = process;
  const libc = platform === 'linux' ? runtimeLibc() : undefined;
  const found = PLATFORMS.find(
    (p) => p.platform === platform && p.arch === arch && p.libc === libc,
  );
  return found ?? `${platform}-${arch}${libc === undefined ? '' : `-${libc}`}`;
}
