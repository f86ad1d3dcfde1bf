export { stripEscapes } from '../util/ansi.js';
export { OVMF_CODE, OVMF_VARS, bootVm, freePort } from './vm.js';
export type { BootOptions, DiskSpec, Firmware, NetbootSpec, Vm } from './vm.js';
