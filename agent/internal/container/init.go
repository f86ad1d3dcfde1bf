package container

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"

	"zos-build/agent/internal/jobs"
)

// RunInit is the container's PID 1 (core0 started with InitEnv set): it
// reads its Setup from fd 3, configures its network namespace with the
// host's ip tool, pivots into the root, then starts processes on request
// and reports their exits until the agent goes away. It never returns.
func RunInit() {
	const ctl = 3
	fail := func(err error) {
		send(ctl, Reply{Error: err.Error()})
		os.Exit(1)
	}
	var setup Setup
	if _, err := recv(ctl, &setup); err != nil {
		os.Exit(1)
	}
	for _, step := range setup.NetSteps {
		if out, err := exec.Command(setup.IPTool, step...).CombinedOutput(); err != nil {
			fail(fmt.Errorf("ip %v: %v: %s", step, err, out))
		}
	}
	if err := enterRoot(setup); err != nil {
		fail(err)
	}
	if err := send(ctl, Reply{Ready: true}); err != nil {
		os.Exit(1)
	}
	serve(ctl)
}

// enterRoot makes root the container's /, with its own /proc, /dev, /sys
// and /tmp, and drops every other mount of the host.
func enterRoot(s Setup) error {
	if err := syscall.Sethostname([]byte(s.Hostname)); err != nil {
		return fmt.Errorf("sethostname: %w", err)
	}
	// Nothing we mount from here on propagates to the host.
	if err := syscall.Mount("", "/", "", syscall.MS_REC|syscall.MS_PRIVATE, ""); err != nil {
		return fmt.Errorf("make / private: %w", err)
	}
	r := s.Root
	old := filepath.Join(r, ".oldroot")
	if err := os.MkdirAll(old, 0o700); err != nil {
		return err
	}
	if err := syscall.PivotRoot(r, old); err == syscall.EINVAL {
		// The node's own root is the initramfs (rootfs), which pivot_root cannot move away from. As
		// runc's no-pivot mode does: move the container's root over / and chroot into it; the
		// node's mounts stay in this private mount namespace, shadowed and out of reach.
		os.Remove(old)
		if err := moveRootOver(r); err != nil {
			return err
		}
	} else if err != nil {
		return fmt.Errorf("pivot_root %s: %w", r, err)
	} else {
		if err := os.Chdir("/"); err != nil {
			return err
		}
		if err := syscall.Unmount("/.oldroot", syscall.MNT_DETACH); err != nil {
			return fmt.Errorf("detach the host's root: %w", err)
		}
		os.Remove("/.oldroot")
	}
	mounts := []struct {
		src, dst, fstype, data string
		flags                  uintptr
	}{
		{"proc", "/proc", "proc", "", syscall.MS_NOSUID | syscall.MS_NODEV | syscall.MS_NOEXEC},
		{"sysfs", "/sys", "sysfs", "", syscall.MS_NOSUID | syscall.MS_NODEV | syscall.MS_NOEXEC | syscall.MS_RDONLY},
		{"tmpfs", "/dev", "tmpfs", "mode=755", syscall.MS_NOSUID},
		{"tmpfs", "/tmp", "tmpfs", "mode=1777", syscall.MS_NOSUID | syscall.MS_NODEV},
	}
	for _, m := range mounts {
		os.MkdirAll(m.dst, 0o755)
		if err := syscall.Mount(m.src, m.dst, m.fstype, m.flags, m.data); err != nil {
			return fmt.Errorf("mount %s: %w", m.dst, err)
		}
	}
	for _, d := range []struct {
		name         string
		major, minor uint32
	}{{"null", 1, 3}, {"zero", 1, 5}, {"full", 1, 7}, {"random", 1, 8}, {"urandom", 1, 9}, {"tty", 5, 0}} {
		dev := int(d.major<<8 | d.minor)
		if err := syscall.Mknod("/dev/"+d.name, syscall.S_IFCHR|0o666, dev); err != nil {
			return fmt.Errorf("mknod /dev/%s: %w", d.name, err)
		}
		os.Chmod("/dev/"+d.name, 0o666)
	}
	return nil
}

// serve starts processes and reports exits; it reaps every process of the
// namespace (it is their init).
func serve(ctl int) {
	var mu sync.Mutex
	owners := map[int]uint64{} // pid -> request seq
	reply := func(r Reply) {
		mu.Lock()
		defer mu.Unlock()
		send(ctl, r)
	}
	go func() {
		for {
			var st syscall.WaitStatus
			pid, err := syscall.Wait4(-1, &st, 0, nil)
			if err == syscall.ECHILD {
				// Nothing to reap yet: wait for a child to appear.
				syscall.Select(0, nil, nil, nil, &syscall.Timeval{Usec: 100000})
				continue
			}
			if err != nil {
				continue
			}
			mu.Lock()
			seq, ok := owners[pid]
			delete(owners, pid)
			mu.Unlock()
			if ok {
				code := st.ExitStatus()
				if st.Signaled() {
					code = 128 + int(st.Signal())
				}
				reply(Reply{Seq: seq, Exit: &code})
			}
		}
	}()
	for {
		var req Request
		fds, err := recv(ctl, &req)
		if err != nil {
			// The agent is gone: end the container.
			os.Exit(0)
		}
		switch req.Op {
		case "exec":
			if len(fds) != 3 {
				for _, f := range fds {
					syscall.Close(f)
				}
				reply(Reply{Seq: req.Seq, Error: "exec needs 3 descriptors"})
				continue
			}
			files := []*os.File{os.NewFile(uintptr(fds[0]), "stdin"), os.NewFile(uintptr(fds[1]), "stdout"),
				os.NewFile(uintptr(fds[2]), "stderr")}
			path := "PATH=" + jobs.DefaultPath
			for _, e := range req.Env {
				if len(e) > 5 && e[:5] == "PATH=" {
					path = e
				}
			}
			bin, err := jobs.LookPath(req.Name, path[5:])
			if err == nil {
				// Start and register under the lock, so the reaper cannot
				// see the exit before the owner is known.
				mu.Lock()
				var p *os.Process
				p, err = os.StartProcess(bin, append([]string{req.Name}, req.Args...), &os.ProcAttr{
					Dir: req.Dir, Env: req.Env, Files: files, Sys: &syscall.SysProcAttr{Setpgid: true}})
				if err == nil {
					owners[p.Pid] = req.Seq
					send(ctl, Reply{Seq: req.Seq, Pid: p.Pid})
				}
				mu.Unlock()
			}
			for _, f := range files {
				f.Close()
			}
			if err != nil {
				reply(Reply{Seq: req.Seq, Error: err.Error()})
			}
		case "signal":
			if req.Pid > 1 {
				syscall.Kill(-req.Pid, syscall.Signal(req.Sig))
			}
		}
	}
}

// moveRootOver makes the mount at r the root of this mount namespace without
// pivot_root: mount --move r /, then chroot into it.
func moveRootOver(r string) error {
	if err := os.Chdir(r); err != nil {
		return err
	}
	if err := syscall.Mount(r, "/", "", syscall.MS_MOVE, ""); err != nil {
		return fmt.Errorf("move %s over /: %w", r, err)
	}
	if err := syscall.Chroot("."); err != nil {
		return fmt.Errorf("chroot %s: %w", r, err)
	}
	return os.Chdir("/")
}
