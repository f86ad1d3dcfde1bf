import { defineRecipe } from '../../build/recipe/define.js';
import { kernelHeaders } from '../../build/steps/kbuild.js';
import { LINUX_SOURCES, LINUX_VERSION } from '../linux/source.js';

// Same tree as the kernel, but only `make headers_install`: the userland builds against these
// without waiting for the kernel compile, and a kernel config change does not rebuild the userland.
export default defineRecipe({
  name: 'linux-headers',
  version: LINUX_VERSION,
  license: 'GPL-2.0-only WITH Linux-syscall-note',
  licenseFiles: ['COPYING', 'LICENSES/preferred/GPL-2.0', 'LICENSES/exceptions/Linux-syscall-note'],
  description: 'Linux UAPI headers (linux/*.h, asm/*.h) in the sysroot, for userland built against musl',
  homepage: 'https://www.kernel.org/',
  sources: LINUX_SOURCES,
  provides: ['kernel-headers'],
  hostTools: ['gcc', 'make'],
  build: kernelHeaders,
});
