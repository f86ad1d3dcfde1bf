export { stripEscapes } from '../util/ansi.js';
export { bootVm, freePort } from './vm.js';
export type { BootOptions, DiskSpec, Firmware, NetbootSpec, Vm } from './vm.js';
