package agent

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"syscall"
	"time"

	"zos-build/agent/internal/jobs"
)

// errToolMissing marks "the image does not carry the program this command
// needs" (ERROR/503).
var errToolMissing = errors.New("tool missing")

type toolMissing struct{ tool, pkg string }

func (e *toolMissing) Error() string {
	return fmt.Sprintf("tool %s is not in this image (it comes with %s)", e.tool, e.pkg)
}
func (e *toolMissing) Is(target error) bool { return target == errToolMissing }

// toolPackage names the component that provides a tool, for the error.
var toolPackage = map[string]string{
	"lsblk": "util-linux", "sfdisk": "util-linux", "blkid": "util-linux", "partx": "util-linux",
	"parted": "parted", "mkfs.btrfs": "btrfs-progs", "btrfs": "btrfs-progs", "ip": "iproute2",
	"bridge": "iproute2", "nft": "nftables", "mkfs.ext4": "e2fsprogs",
}

// toolError is a tool that ran and failed: its stderr is the message.
type toolError struct {
	argv   []string
	code   int
	stderr string
}

func (e *toolError) Error() string {
	msg := strings.TrimSpace(e.stderr)
	if msg == "" {
		msg = fmt.Sprintf("exit code %d", e.code)
	}
	return fmt.Sprintf("%s failed: %s", strings.Join(e.argv, " "), msg)
}

// runTool runs a program of the image with fixed arguments (never through
// a shell) and returns its stdout. It is killed when ctx ends. stdin may be
// nil.
func (s *Server) runTool(ctx context.Context, stdin []byte, name string, args ...string) ([]byte, error) {
	bin, err := jobs.LookPath(name, jobs.DefaultPath)
	if err == nil && toolPackage[name] != "" && isBusybox(bin) {
		// busybox's applets of the same name lack what these commands use
		// (ip -j, nft, parted); insist on the real tool.
		err = errors.New("busybox applet")
	}
	if err != nil {
		pkg := toolPackage[name]
		if pkg == "" {
			pkg = "its package"
		}
		return nil, &toolMissing{tool: name, pkg: pkg}
	}
	outR, outW, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	errR, errW, err := os.Pipe()
	if err != nil {
		outR.Close()
		outW.Close()
		return nil, err
	}
	inR, inW, err := os.Pipe()
	if err != nil {
		outR.Close()
		outW.Close()
		errR.Close()
		errW.Close()
		return nil, err
	}
	argv := append([]string{name}, args...)
	env := []string{"PATH=" + jobs.DefaultPath, "LC_ALL=C"}
	p, exitc, err := s.Reaper.Start(bin, argv, &os.ProcAttr{Env: env, Files: []*os.File{inR, outW, errW},
		Sys: &syscall.SysProcAttr{Setpgid: true}})
	inR.Close()
	outW.Close()
	errW.Close()
	if err != nil {
		inW.Close()
		outR.Close()
		errR.Close()
		return nil, err
	}
	go func() {
		if stdin != nil {
			inW.Write(stdin)
		}
		inW.Close()
	}()
	var stdout, stderr bytes.Buffer
	done := make(chan struct{}, 2)
	go func() { io.Copy(&stdout, io.LimitReader(outR, 64<<20)); outR.Close(); done <- struct{}{} }()
	go func() { io.Copy(&stderr, io.LimitReader(errR, 1<<20)); errR.Close(); done <- struct{}{} }()
	var ex interface{ Code() int }
	select {
	case e := <-exitc:
		ex = e
	case <-ctx.Done():
		syscall.Kill(-p.Pid, syscall.SIGKILL)
		ex = <-exitc
	}
	for i := 0; i < 2; i++ {
		select {
		case <-done:
		case <-time.After(2 * time.Second):
		}
	}
	if c := ex.Code(); c != 0 {
		return stdout.Bytes(), &toolError{argv: argv, code: c, stderr: stderr.String()}
	}
	return stdout.Bytes(), nil
}

// isBusybox tells whether bin is the busybox binary (a link to it).
func isBusybox(bin string) bool {
	st, err := os.Stat(bin)
	if err != nil {
		return false
	}
	for _, bb := range []string{"/bin/busybox", "/usr/bin/busybox", "/sbin/busybox"} {
		if bst, err := os.Stat(bb); err == nil && os.SameFile(st, bst) {
			return true
		}
	}
	return false
}
