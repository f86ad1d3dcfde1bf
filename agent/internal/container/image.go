package container

import (
	"archive/tar"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"time"
)

// MaxImage bounds a root filesystem archive.
const MaxImage = 1 << 30

var sha256Hex = regexp.MustCompile(`^[0-9a-f]{64}$`)

// ParseRoot splits a root URL "http(s)://host/path.tar[.gz]#sha256=<hex>"
// into the URL to fetch and the pinned digest. The pin is required.
func ParseRoot(root string) (string, string, error) {
	u, err := url.Parse(root)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", "", fmt.Errorf("argument root must be an http(s) URL of a tar archive, got %q", root)
	}
	sum := strings.TrimPrefix(u.Fragment, "sha256=")
	if sum == u.Fragment || !sha256Hex.MatchString(sum) {
		return "", "", fmt.Errorf("argument root must pin the archive: append #sha256=<64 hex digits> to %s", root)
	}
	u.Fragment = ""
	return u.String(), sum, nil
}

// Image makes sure the archive with digest sum is extracted under dir and
// returns the extracted tree (shared, never written to: containers get an
// overlay on top of it).
func Image(ctx context.Context, dir, rawURL, sum string) (string, error) {
	tree := filepath.Join(dir, sum)
	if st, err := os.Stat(tree); err == nil && st.IsDir() {
		return tree, nil
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", err
	}
	tmp, err := os.CreateTemp(dir, "download-")
	if err != nil {
		return "", err
	}
	defer os.Remove(tmp.Name())
	defer tmp.Close()
	ctx, cancel := context.WithTimeout(ctx, 10*time.Minute)
	defer cancel()
	body, err := get(ctx, rawURL)
	if err != nil {
		return "", fmt.Errorf("download %s: %w", rawURL, err)
	}
	defer body.Close()
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(tmp, h), io.LimitReader(body, MaxImage+1))
	if err != nil {
		return "", fmt.Errorf("download %s: %w", rawURL, err)
	}
	if n > MaxImage {
		return "", fmt.Errorf("download %s: larger than %d bytes", rawURL, MaxImage)
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != sum {
		return "", fmt.Errorf("download %s: sha256 is %s, the root URL pins %s", rawURL, got, sum)
	}
	if _, err := tmp.Seek(0, io.SeekStart); err != nil {
		return "", err
	}
	work, err := os.MkdirTemp(dir, "extract-")
	if err != nil {
		return "", err
	}
	if err := Extract(tmp, work); err != nil {
		os.RemoveAll(work)
		return "", fmt.Errorf("extract %s: %w", rawURL, err)
	}
	if err := os.Rename(work, tree); err != nil {
		os.RemoveAll(work)
		if _, serr := os.Stat(tree); serr == nil {
			return tree, nil // extracted meanwhile by another create
		}
		return "", err
	}
	return tree, nil
}

// Extract unpacks a tar (optionally gzip-compressed) archive into dest,
// refusing entries that would land outside it.
func Extract(r io.ReadSeeker, dest string) error {
	var magic [2]byte
	io.ReadFull(r, magic[:])
	if _, err := r.Seek(0, io.SeekStart); err != nil {
		return err
	}
	var src io.Reader = r
	if magic == [2]byte{0x1f, 0x8b} {
		gz, err := gzip.NewReader(r)
		if err != nil {
			return err
		}
		defer gz.Close()
		src = gz
	}
	tr := tar.NewReader(src)
	type dirMode struct {
		path string
		mode os.FileMode
	}
	var dirs []dirMode
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		name := filepath.Clean("/" + h.Name)
		if name == "/" {
			continue
		}
		target := filepath.Join(dest, name)
		if err := within(dest, filepath.Dir(target)); err != nil {
			return fmt.Errorf("entry %s: %w", h.Name, err)
		}
		mode := os.FileMode(h.Mode & 0o777)
		if h.Mode&0o4000 != 0 {
			mode |= os.ModeSetuid
		}
		if h.Mode&0o2000 != 0 {
			mode |= os.ModeSetgid
		}
		if h.Mode&0o1000 != 0 {
			mode |= os.ModeSticky
		}
		switch h.Typeflag {
		case tar.TypeDir:
			if err := os.MkdirAll(target, 0o755); err != nil {
				return err
			}
			dirs = append(dirs, dirMode{target, mode})
		case tar.TypeReg, tar.TypeRegA:
			os.MkdirAll(filepath.Dir(target), 0o755)
			f, err := os.OpenFile(target, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
			if err != nil {
				return err
			}
			_, err = io.Copy(f, tr)
			f.Close()
			if err != nil {
				return err
			}
			if err := os.Chmod(target, mode); err != nil {
				return err
			}
		case tar.TypeSymlink:
			os.MkdirAll(filepath.Dir(target), 0o755)
			os.Remove(target)
			if err := os.Symlink(h.Linkname, target); err != nil {
				return err
			}
		case tar.TypeLink:
			old := filepath.Join(dest, filepath.Clean("/"+h.Linkname))
			if err := within(dest, old); err != nil {
				return fmt.Errorf("entry %s: %w", h.Name, err)
			}
			os.Remove(target)
			if err := os.Link(old, target); err != nil {
				return err
			}
		case tar.TypeChar, tar.TypeBlock, tar.TypeFifo:
			kind := map[byte]uint32{tar.TypeChar: syscall.S_IFCHR, tar.TypeBlock: syscall.S_IFBLK, tar.TypeFifo: syscall.S_IFIFO}
			dev := int(h.Devmajor<<8 | h.Devminor)
			if err := syscall.Mknod(target, kind[h.Typeflag]|uint32(h.Mode&0o777), dev); err != nil {
				return err
			}
		default:
			continue // xattrs headers and the like
		}
		if h.Typeflag != tar.TypeSymlink {
			os.Lchown(target, h.Uid, h.Gid)
		}
	}
	for i := len(dirs) - 1; i >= 0; i-- {
		os.Chmod(dirs[i].path, dirs[i].mode)
	}
	return nil
}

// within checks that p (after resolving symlinks of existing parents) is
// inside root.
func within(root, p string) error {
	real, err := filepath.EvalSymlinks(p)
	if err != nil {
		if os.IsNotExist(err) {
			return within(root, filepath.Dir(p))
		}
		return err
	}
	rootReal, err := filepath.EvalSymlinks(root)
	if err != nil {
		return err
	}
	if real != rootReal && !strings.HasPrefix(real, rootReal+"/") {
		return fmt.Errorf("escapes the root filesystem (%s)", real)
	}
	return nil
}
