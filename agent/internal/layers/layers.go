// Package layers mounts the image's layers: components the image carries as squashfs images
// (build/image/mounted.ts), whose files are links into the image's mount point. Until a layer is
// mounted its links dangle, so everything that runs a tool for a command waits for Wait.
package layers

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
	"syscall"
	"unsafe"

	"zos-build/agent/internal/clog"
	"zos-build/agent/internal/sysinit"
)

// Dir holds the image's mounted layers: NAME.squashfs is mounted read-only on NAME/, and the
// root's links for that component's files point into it.
var Dir = "/usr/lib/zos/layers"

// IsImage reports whether a loop device's backing file is one of the image's own layers (not a
// disk an operator attached): disk.list leaves those out.
func IsImage(backingFile string) bool {
	return strings.HasPrefix(backingFile, Dir+"/") && strings.HasSuffix(backingFile, ".squashfs")
}

// pending is closed when the mounts MountInBackground started are done; nil if none were started.
var pending atomic.Pointer[chan struct{}]

// MountInBackground mounts the layers on a thread of its own at the lowest CPU priority (nice 19)
// and returns at once. Nothing the node needs to answer its first command (redis, DHCP, the
// management port) is in a layer, and on a slow CPU the mounts (about 30 ms each under QEMU's TCG)
// would otherwise delay it: they take the CPU when the start-up work leaves it idle.
func MountInBackground() {
	done := make(chan struct{})
	pending.Store(&done)
	go func() {
		defer close(done)
		// Never unlocked: the thread ends with this goroutine, and its priority with it.
		runtime.LockOSThread()
		if err := syscall.Setpriority(syscall.PRIO_PROCESS, syscall.Gettid(), 19); err != nil {
			clog.Warnf("layers: lower priority: %v", err)
		}
		if n := Mount(); n > 0 {
			clog.Infof("mounted %d image layers", n)
		}
	}()
}

// Wait blocks until the mounts MountInBackground started are done (at once if it never ran).
func Wait() {
	if ch := pending.Load(); ch != nil {
		<-*ch
	}
}

// Mount mounts every NAME.squashfs of Dir on NAME/ through a loop device of its own, read-only.
// A layer that fails is logged and skipped: its tools are missing, the rest of the node works.
// Returns how many are mounted.
func Mount() int {
	images, _ := filepath.Glob(filepath.Join(Dir, "*.squashfs"))
	n := 0
	for _, img := range images {
		dir := strings.TrimSuffix(img, ".squashfs")
		if !sysinit.IsMountPoint(dir) {
			if err := mountLayer(img, dir); err != nil {
				clog.Errorf("layer %s: %v", filepath.Base(dir), err)
				continue
			}
		}
		n++
	}
	return n
}

func mountLayer(img, dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	dev, closeDev, err := attachLoop(img)
	if err != nil {
		return err
	}
	// The mount holds the device from here on; closing ours leaves it to the mount (auto-clear
	// releases the device when the layer is unmounted, or now if the mount failed).
	defer closeDev()
	if err := syscall.Mount(dev, dir, "squashfs", syscall.MS_RDONLY|syscall.MS_NODEV, ""); err != nil {
		return fmt.Errorf("mount %s on %s: %v", dev, dir, err)
	}
	return nil
}

// Linux's loop ioctls (include/uapi/linux/loop.h).
const (
	loopCtlGetFree   = 0x4C82
	loopConfigure    = 0x4C0A
	loFlagsReadOnly  = 1
	loFlagsAutoclear = 4
)

// loopInfo64 is struct loop_info64 (232 bytes).
type loopInfo64 struct {
	Device, Inode, Rdevice, Offset, SizeLimit  uint64
	Number, EncryptType, EncryptKeySize, Flags uint32
	FileName                                   [64]byte
	CryptName                                  [64]byte
	EncryptKey                                 [32]byte
	Init                                       [2]uint64
}

// loopConfig is struct loop_config (LOOP_CONFIGURE, Linux 5.8+): the backing file and its
// settings in one call.
type loopConfig struct {
	Fd, BlockSize uint32
	Info          loopInfo64
	Reserved      [8]uint64
}

// attachLoop binds img read-only to a free loop device and returns its path, with a function
// that closes the device (with auto-clear, the last close of an unused device detaches it).
func attachLoop(img string) (string, func(), error) {
	backing, err := os.Open(img)
	if err != nil {
		return "", nil, err
	}
	defer backing.Close() // the loop device keeps its own reference
	ctl, err := os.OpenFile("/dev/loop-control", os.O_RDWR, 0)
	if err != nil {
		return "", nil, err
	}
	defer ctl.Close()
	// Another process can take the free device between the two calls: ask again.
	for attempt := 0; attempt < 8; attempt++ {
		num, errno := sysinit.Ioctl(ctl.Fd(), loopCtlGetFree, 0)
		if errno != 0 {
			return "", nil, fmt.Errorf("no free loop device: %v", errno)
		}
		dev := fmt.Sprintf("/dev/loop%d", num)
		f, err := os.OpenFile(dev, os.O_RDONLY, 0)
		if err != nil {
			return "", nil, err
		}
		cfg := loopConfig{Fd: uint32(backing.Fd())}
		cfg.Info.Flags = loFlagsReadOnly | loFlagsAutoclear
		copy(cfg.Info.FileName[:len(cfg.Info.FileName)-1], img)
		switch _, errno := sysinit.Ioctl(f.Fd(), loopConfigure, uintptr(unsafe.Pointer(&cfg))); errno {
		case 0:
			return dev, func() { f.Close() }, nil
		case syscall.EBUSY:
			f.Close()
		default:
			f.Close()
			return "", nil, fmt.Errorf("%s: LOOP_CONFIGURE: %v", dev, errno)
		}
	}
	return "", nil, fmt.Errorf("no loop device stayed free")
}
