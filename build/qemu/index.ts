export { stripEscapes } from '../util/ansi.js';
export { OVMF_CODE, OVMF_CODE_SECBOOT, OVMF_VARS, OVMF_VARS_SNAKEOIL, bootVm, freePort } from './vm.js';
export type { BootOptions, DiskSpec, Firmware, NetbootSpec, Vm } from './vm.js';
