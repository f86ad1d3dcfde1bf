package container

import (
	"archive/tar"
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func tarOf(t *testing.T, entries ...tar.Header) *bytes.Reader {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, h := range entries {
		h := h
		body := ""
		if h.Typeflag == tar.TypeReg {
			body = "data:" + h.Name
			h.Size = int64(len(body))
		}
		if err := tw.WriteHeader(&h); err != nil {
			t.Fatal(err)
		}
		tw.Write([]byte(body))
	}
	tw.Close()
	return bytes.NewReader(buf.Bytes())
}

func TestExtract(t *testing.T) {
	dest := t.TempDir()
	err := Extract(tarOf(t,
		tar.Header{Name: "bin/", Typeflag: tar.TypeDir, Mode: 0o755},
		tar.Header{Name: "bin/busybox", Typeflag: tar.TypeReg, Mode: 0o755},
		tar.Header{Name: "bin/sh", Typeflag: tar.TypeSymlink, Linkname: "busybox"},
		tar.Header{Name: "bin/ash", Typeflag: tar.TypeLink, Linkname: "bin/busybox"},
		tar.Header{Name: "../../outside", Typeflag: tar.TypeReg, Mode: 0o644}, // cleaned to /outside
	), dest)
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(filepath.Join(dest, "bin/sh")); string(b) != "data:bin/busybox" {
		t.Fatalf("symlink: %q", b)
	}
	if st, _ := os.Stat(filepath.Join(dest, "bin/ash")); st == nil || st.Mode()&0o111 == 0 {
		t.Fatal("hard link missing or not executable")
	}
	if _, err := os.Stat(filepath.Join(dest, "outside")); err != nil {
		t.Fatalf("../../outside should land inside: %v", err)
	}
	// A symlink pointing out of the tree must not be followed by later entries.
	dest2 := t.TempDir()
	outside := t.TempDir()
	err = Extract(tarOf(t,
		tar.Header{Name: "evil", Typeflag: tar.TypeSymlink, Linkname: outside},
		tar.Header{Name: "evil/pwned", Typeflag: tar.TypeReg, Mode: 0o644},
	), dest2)
	if err == nil || !strings.Contains(err.Error(), "escapes the root filesystem") {
		t.Fatalf("escape not refused: %v", err)
	}
	if _, err := os.Stat(filepath.Join(outside, "pwned")); err == nil {
		t.Fatal("wrote through the symlink")
	}
}

func TestParseRoot(t *testing.T) {
	sum := strings.Repeat("ab", 32)
	u, s, err := ParseRoot("http://10.0.2.2:8080/rootfs.tar#sha256=" + sum)
	if err != nil || u != "http://10.0.2.2:8080/rootfs.tar" || s != sum {
		t.Fatalf("%q %q %v", u, s, err)
	}
	for _, bad := range []string{"http://x/r.tar", "ftp://x/r.tar#sha256=" + sum, "/r.tar#sha256=" + sum, "http://x/r.tar#sha256=abc"} {
		if _, _, err := ParseRoot(bad); err == nil {
			t.Errorf("accepted %q", bad)
		}
	}
}
