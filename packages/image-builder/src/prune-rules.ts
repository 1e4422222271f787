/**
 * Which files of an installed npm package an image needs at run time. Generic rules drop what no
 * package loads (type declarations, source maps, TypeScript sources, docs, tests); per-package
 * rules keep one platform's native binaries and one module build where a package ships several.
 * License and notice files are always kept.
 */

/** The platform the image runs on (`process.platform`/`process.arch` inside the container). */
export interface TargetPlatform {
  readonly os: 'linux';
  readonly arch: 'x64' | 'arm64';
}

/** Files kept whatever other rule says: licenses and notices travel with the code. */
const LEGAL_FILE = /^(licen[cs]e|notice|copying|copyright|authors)(\b|[._-])/i;

/** Files nothing loads at run time. */
const DEAD_FILE = /(\.d\.[cm]?ts|\.map|\.tsbuildinfo|\.tsx?|\.[cm]ts|\.md|\.markdown|\.flow|\.gyp|\.gypi|\.cc|\.cpp|\.h|\.hpp|\.c)$/i;

/**
 * Directories nothing loads at run time, at a package's top level only (deeper, a `doc/` can be
 * code: yaml's dist/doc/).
 */
const DEAD_TOP_DIRS = new Set(['test', 'tests', '__tests__', 'docs', 'example', 'examples', 'benchmark', 'benchmarks', 'coverage', '.github']);

/** Packages that only carry type declarations: never loaded, never copied. */
export function isTypesOnlyPackage(name: string): boolean {
  return name.startsWith('@types/') || name === '@webgpu/types';
}

/**
 * Dependencies a package declares but only its install scripts use (mlmodel installs with
 * scripts off: the binaries ship inside the package). Left out of the image.
 */
export const INSTALL_ONLY_DEPENDENCIES: Readonly<Record<string, readonly string[]>> = {
  // script/install.js downloads CUDA/TensorRT providers (adm-zip, global-agent); dist/ needs only onnxruntime-common
  'onnxruntime-node': ['adm-zip', 'global-agent'],
};

/**
 * A package whose Node entry is one self-contained bundle (`main`): only that file, the
 * WebAssembly next to it and package.json are needed. tfjs packages ship the same code eight ways
 * (ESM modules, es2017/fesm/min bundles, browser builds) besides their `*.node.js` bundle.
 */
const MAIN_BUNDLE_ONLY = /^@tensorflow\/tfjs-(core|converter|layers|backend-cpu|backend-wasm)$/;

export interface PackageFacts {
  readonly name: string;
  /** `main` from package.json, when the package has one. */
  readonly main?: string;
}

/** A decision for one path inside a package (`rel` uses `/`, no leading `./`). */
export type Keep = (rel: string, isDir: boolean) => boolean;

/** Whether a path segment names another OS/CPU's native build (`darwin-arm64`, `win32-x64`, ...). */
function otherPlatformDir(segment: string, target: TargetPlatform): boolean {
  const m = /^(darwin|win32|linux|freebsd|openbsd|android|sunos|aix)-(x64|arm64|arm|ia32|ppc64|s390x|riscv64)(-.*)?$/.exec(segment);
  return m !== null && !(m[1] === target.os && m[2] === target.arch);
}

/**
 * A package holding another platform's native build (`@napi-rs/nice-linux-x64-gnu`,
 * `@esbuild/darwin-arm64`): the optional dependencies a package lists for every platform.
 */
export function isOtherPlatformPackage(name: string, target: TargetPlatform): boolean {
  const m = /[-/](darwin|win32|linux|freebsd|openbsd|android|sunos|aix)-(x64|arm64|arm|ia32|ppc64|s390x|riscv64)(-[a-z0-9]+)?$/.exec(name);
  return m !== null && !(m[1] === target.os && m[2] === target.arch && (m[3] === undefined || m[3] === '-gnu'));
}

/** The keep rule for one package. */
export function keepRule(pkg: PackageFacts, target: TargetPlatform): Keep {
  const generic: Keep = (rel, isDir) => {
    const parts = rel.split('/');
    const base = parts[parts.length - 1]!;
    if (!isDir && LEGAL_FILE.test(base)) return true;
    if (DEAD_TOP_DIRS.has(parts[0]!) || parts.includes('__pycache__')) return false;
    if (parts.some((p) => otherPlatformDir(p, target))) return false;
    return isDir || !DEAD_FILE.test(base);
  };
  if (pkg.name === 'onnxruntime-node') {
    // bin/napi-v6/<os>/<arch>/: the CPU library and its binding for the target only; script/ is the installer
    return (rel, isDir) => {
      const parts = rel.split('/');
      if (parts[0] === 'script') return false;
      if (parts[0] === 'bin' && parts.length >= 3) {
        if (parts[2] !== target.os) return false;
        if (parts.length >= 4 && parts[3] !== target.arch) return false;
      }
      return generic(rel, isDir);
    };
  }
  if (pkg.name === 'parquet-wasm') {
    // Node resolves the package's `node` export (./node/parquet_wasm.js); bundler/ and esm/ are for browsers
    return (rel, isDir) => rel.split('/')[0] !== 'bundler' && rel.split('/')[0] !== 'esm' && generic(rel, isDir);
  }
  if (MAIN_BUNDLE_ONLY.test(pkg.name) && pkg.main) {
    const main = pkg.main.replace(/^\.\//, '');
    const mainDir = main.includes('/') ? main.slice(0, main.lastIndexOf('/')) : '';
    return (rel, isDir) => {
      if (isDir) return rel === mainDir || mainDir.startsWith(`${rel}/`);
      const base = rel.slice(rel.lastIndexOf('/') + 1);
      const dir = rel.includes('/') ? rel.slice(0, rel.lastIndexOf('/')) : '';
      return rel === 'package.json' || rel === main || LEGAL_FILE.test(base) || (dir === mainDir && base.endsWith('.wasm'));
    };
  }
  return generic;
}

/**
 * The keep rule for a workspace package of mlmodel itself: package.json and the built JS in dist/
 * (no TypeScript sources, declarations or maps), plus `extraDirs` (e.g. the flavors' python/).
 */
export function workspaceKeepRule(extraDirs: readonly string[]): Keep {
  return (rel, isDir) => {
    const top = rel.split('/')[0]!;
    if (rel === 'package.json') return true;
    if (top !== 'dist' && !extraDirs.includes(top)) return false;
    const base = rel.slice(rel.lastIndexOf('/') + 1);
    if (isDir) return base !== '__pycache__';
    return !/(\.d\.ts|\.map|\.tsbuildinfo|\.pyc)$/.test(base);
  };
}
