// Package fsys implements the filesystem.* commands: a table of open files
// addressed by random descriptor ids (0-core's filesystem.open/read/write/
// close) and path operations, with paths validated before use.
package fsys

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
)

// ReadBlock is the most filesystem.read returns at once (as 0-core).
const ReadBlock = 512 << 10

// MaxOpen bounds the open descriptors; IdleTimeout closes forgotten ones.
const (
	MaxOpen     = 256
	IdleTimeout = 5 * time.Minute
)

// Path checks a client-supplied path: absolute, no NUL, at most 4096 bytes.
// It returns the cleaned path.
func Path(arg, p string) (string, error) {
	switch {
	case p == "":
		return "", fmt.Errorf("argument %s is required", arg)
	case len(p) > 4096:
		return "", fmt.Errorf("argument %s is longer than 4096 bytes", arg)
	case strings.IndexByte(p, 0) >= 0:
		return "", fmt.Errorf("argument %s contains a NUL byte", arg)
	case !filepath.IsAbs(p):
		return "", fmt.Errorf("argument %s must be an absolute path, got %q", arg, p)
	}
	return filepath.Clean(p), nil
}

// OpenFlags turns a 0-core mode string into open(2) flags: exactly one of
// r (read), w (write, create, truncate), a (append, create), x (create, must
// not exist), optionally with + (read and write).
func OpenFlags(mode string) (int, error) {
	if mode == "" {
		mode = "r"
	}
	var flags, primary int
	readable, writable := false, false
	for _, c := range mode {
		switch c {
		case 'r':
			primary++
			readable = true
		case 'w':
			primary++
			writable = true
			flags |= os.O_CREATE | os.O_TRUNC
		case 'a':
			primary++
			writable = true
			flags |= os.O_CREATE | os.O_APPEND
		case 'x':
			primary++
			writable = true
			flags |= os.O_CREATE | os.O_EXCL
		case '+':
			readable, writable = true, true
		default:
			return 0, fmt.Errorf("argument mode: unknown mode character %q (use one of r, w, a, x, optionally with +)", c)
		}
	}
	if primary != 1 {
		return 0, fmt.Errorf("argument mode %q must contain exactly one of r, w, a, x", mode)
	}
	switch {
	case readable && writable:
		flags |= os.O_RDWR
	case writable:
		flags |= os.O_WRONLY
	default:
		flags |= os.O_RDONLY
	}
	return flags, nil
}

type openFile struct {
	f    *os.File
	used time.Time
	mu   sync.Mutex
}

// Table holds open files.
type Table struct {
	mu    sync.Mutex
	files map[string]*openFile
}

// NewTable returns an empty table.
func NewTable() *Table { return &Table{files: map[string]*openFile{}} }

// ErrUnknownFD is returned for a descriptor that is not open.
var ErrUnknownFD = errors.New("unknown file descriptor (closed, or idle for more than 5 minutes)")

func (t *Table) expireLocked(now time.Time) {
	for id, of := range t.files {
		if now.Sub(of.used) > IdleTimeout {
			of.f.Close()
			delete(t.files, id)
		}
	}
}

// Open opens path with a 0-core mode and permission bits and returns its
// descriptor id.
func (t *Table) Open(path, mode string, perm uint32) (string, error) {
	flags, err := OpenFlags(mode)
	if err != nil {
		return "", err
	}
	if perm > 0o7777 {
		return "", fmt.Errorf("argument perm %#o is not a permission (max 07777)", perm)
	}
	if perm == 0 {
		perm = 0o644
	}
	t.mu.Lock()
	t.expireLocked(time.Now())
	n := len(t.files)
	t.mu.Unlock()
	if n >= MaxOpen {
		return "", fmt.Errorf("too many open files (%d); close some with filesystem.close", n)
	}
	f, err := os.OpenFile(path, flags, os.FileMode(perm)&os.ModePerm)
	if err != nil {
		return "", err
	}
	var b [16]byte
	rand.Read(b[:])
	id := hex.EncodeToString(b[:])
	t.mu.Lock()
	t.files[id] = &openFile{f: f, used: time.Now()}
	t.mu.Unlock()
	return id, nil
}

func (t *Table) get(fd string) (*openFile, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.expireLocked(time.Now())
	of := t.files[fd]
	if of == nil {
		return nil, ErrUnknownFD
	}
	of.used = time.Now()
	return of, nil
}

// Read returns the next block (up to ReadBlock bytes) base64-encoded; ""
// at end of file.
func (t *Table) Read(fd string) (string, error) {
	of, err := t.get(fd)
	if err != nil {
		return "", err
	}
	of.mu.Lock()
	defer of.mu.Unlock()
	buf := make([]byte, ReadBlock)
	n, err := io.ReadFull(of.f, buf)
	if err != nil && err != io.EOF && err != io.ErrUnexpectedEOF {
		return "", err
	}
	return base64.StdEncoding.EncodeToString(buf[:n]), nil
}

// Write decodes a base64 block (newlines allowed, as Python's encodebytes
// writes them) and appends it at the file position.
func (t *Table) Write(fd, block string) (int, error) {
	data, err := base64.StdEncoding.DecodeString(strings.NewReplacer("\n", "", "\r", "").Replace(block))
	if err != nil {
		return 0, fmt.Errorf("argument block is not base64: %v", err)
	}
	of, err := t.get(fd)
	if err != nil {
		return 0, err
	}
	of.mu.Lock()
	defer of.mu.Unlock()
	return of.f.Write(data)
}

// Close closes a descriptor.
func (t *Table) Close(fd string) error {
	t.mu.Lock()
	of := t.files[fd]
	delete(t.files, fd)
	t.mu.Unlock()
	if of == nil {
		return ErrUnknownFD
	}
	return of.f.Close()
}

// Entry is one filesystem.list entry (0-core's shape).
type Entry struct {
	Name  string      `json:"name"`
	Size  int64       `json:"size"`
	Mode  os.FileMode `json:"mode"`
	IsDir bool        `json:"is_dir"`
}

// List lists a directory.
func List(dir string) ([]Entry, error) {
	des, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	out := make([]Entry, 0, len(des))
	for _, de := range des {
		fi, err := de.Info()
		if err != nil {
			continue // vanished meanwhile
		}
		out = append(out, Entry{Name: de.Name(), Size: fi.Size(), Mode: fi.Mode() & os.ModePerm, IsDir: fi.IsDir()})
	}
	return out, nil
}

// Remove removes path recursively; it refuses "/" and the top-level
// directories of the root filesystem, which no client means to delete.
func Remove(path string) error {
	if filepath.Dir(path) == "/" {
		return fmt.Errorf("refusing to remove %s: a top-level directory", path)
	}
	return os.RemoveAll(path)
}

// Chmod changes permission bits, optionally recursively.
func Chmod(path string, mode uint32, recursive bool) error {
	if mode > 0o7777 {
		return fmt.Errorf("argument mode %#o is not a permission (max 07777)", mode)
	}
	m := os.FileMode(mode & 0o777)
	if mode&0o4000 != 0 {
		m |= os.ModeSetuid
	}
	if mode&0o2000 != 0 {
		m |= os.ModeSetgid
	}
	if mode&0o1000 != 0 {
		m |= os.ModeSticky
	}
	if !recursive {
		return os.Chmod(path, m)
	}
	return filepath.Walk(path, func(p string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		if fi.Mode()&os.ModeSymlink != 0 {
			return nil
		}
		return os.Chmod(p, m)
	})
}

// lookupID resolves a user or group name (or a number) to an id.
func lookupID(kind, name string, lookup func(string) (string, error)) (int, error) {
	if name == "" {
		return -1, nil // unchanged
	}
	if n, err := strconv.Atoi(name); err == nil && n >= 0 {
		return n, nil
	}
	id, err := lookup(name)
	if err != nil {
		return 0, fmt.Errorf("unknown %s %q", kind, name)
	}
	return strconv.Atoi(id)
}

// Chown changes owner and group (names or numbers; empty keeps it).
func Chown(path, owner, group string, recursive bool) error {
	uid, err := lookupID("user", owner, func(n string) (string, error) {
		u, err := user.Lookup(n)
		if err != nil {
			return "", err
		}
		return u.Uid, nil
	})
	if err != nil {
		return err
	}
	gid, err := lookupID("group", group, func(n string) (string, error) {
		g, err := user.LookupGroup(n)
		if err != nil {
			return "", err
		}
		return g.Gid, nil
	})
	if err != nil {
		return err
	}
	if !recursive {
		return os.Lchown(path, uid, gid)
	}
	return filepath.Walk(path, func(p string, _ os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		return os.Lchown(p, uid, gid)
	})
}
