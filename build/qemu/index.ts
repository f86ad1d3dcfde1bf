export { OVMF_CODE, OVMF_VARS, bootVm, freePort, stripEscapes } from './vm.js';
export type { BootOptions, DiskSpec, Firmware, NetbootSpec, Vm } from './vm.js';
