package settings

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestParseCmdline(t *testing.T) {
	c := ParseCmdline(`console=ttyS0 rdinit=/init zos.password=secret hostname=node1 runmode=dev farmer_id=42 zos.debug quoted="a b" x=1 x=2` + "\n")
	want := map[string]string{"console": "ttyS0", "zos.password": "secret", "hostname": "node1", "runmode": "dev",
		"farmer_id": "42", "zos.debug": "", "quoted": "a b", "x": "2"}
	for k, v := range want {
		if got, ok := c[k]; !ok || got != v {
			t.Errorf("%s: got %q (present %v), want %q", k, got, ok, v)
		}
	}
}

func TestParseConfig(t *testing.T) {
	m, warns := ParseConfig(strings.NewReader("# comment\n\npassword = 's3cret'\ndebug=true\nnonsense\n=x\n"))
	if m["password"] != "s3cret" || m["debug"] != "true" {
		t.Fatalf("%v", m)
	}
	if len(warns) != 2 {
		t.Fatalf("warnings %v", warns)
	}
}

func TestCmdlineWinsOverFile(t *testing.T) {
	file := map[string]string{"operator_keys": "ed25519:file", "debug": "false", "runmode": "test", "farmer_id": "1", "hostname": "filehost", "insecure_dev": "true"}
	cmd := ParseCmdline("zos.keys=ed25519:a,ed25519:b zos.debug runmode=dev farmer_id=42 hostname=node1 zos.insecure=false")
	s, warns := Resolve(file, cmd, false)
	if len(warns) != 0 {
		t.Fatalf("warnings %v", warns)
	}
	if s.OperatorKeys != "ed25519:a,ed25519:b" || !s.Debug || s.RunMode != "dev" || s.FarmerID != "42" || s.Hostname != "node1" || s.Insecure {
		t.Fatalf("%+v", s)
	}
	if s.Sources["operator_keys"] != "cmdline" {
		t.Fatalf("sources %v", s.Sources)
	}
}

func TestFileOnlyAndDefaults(t *testing.T) {
	s, _ := Resolve(map[string]string{}, Cmdline{}, false)
	if s.RunMode != "prod" || s.Debug || s.Insecure || s.OperatorKeys != "" {
		t.Fatalf("%+v", s)
	}
	s, _ = Resolve(map[string]string{"insecure_dev": "true", "operator_keys": "ed25519:k"}, Cmdline{}, false)
	if !s.Insecure || s.OperatorKeys != "ed25519:k" {
		t.Fatalf("%+v", s)
	}
}

func TestInvalidValuesWarn(t *testing.T) {
	s, warns := Resolve(map[string]string{"insecure_dev": "", "bogus": "1", "debug": "maybe"},
		ParseCmdline("runmode=weird hostname=-bad-"), false)
	if s.Insecure || s.Debug || s.RunMode != "prod" || s.Hostname != "" {
		t.Fatalf("%+v", s)
	}
	if len(warns) != 5 {
		t.Fatalf("want 5 warnings, got %v", warns)
	}
}

func TestZosInsecureFlag(t *testing.T) {
	s, _ := Resolve(map[string]string{}, ParseCmdline("zos.insecure"), false)
	if !s.Insecure {
		t.Fatal("zos.insecure as a bare flag must enable insecure mode")
	}
}

func TestValidHostname(t *testing.T) {
	for _, h := range []string{"node1", "zos-525400123456", "a.b-c.d"} {
		if !ValidHostname(h) {
			t.Errorf("%s rejected", h)
		}
	}
	for _, h := range []string{"", "-a", "a-", "a..b", "a_b", strings.Repeat("a", 65)} {
		if ValidHostname(h) {
			t.Errorf("%q accepted", h)
		}
	}
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	cl := filepath.Join(dir, "cmdline")
	cf := filepath.Join(dir, "core0.conf")
	os.WriteFile(cl, []byte("zos.keys=ed25519:k\n"), 0o600)
	os.WriteFile(cf, []byte("runmode=test\n"), 0o600)
	s, warns := Load(cl, cf, false)
	if s.OperatorKeys != "ed25519:k" || s.RunMode != "test" || len(warns) != 0 {
		t.Fatalf("%+v %v", s, warns)
	}
	s, warns = Load(filepath.Join(dir, "none"), filepath.Join(dir, "none.conf"), false)
	if len(warns) != 1 || s.OperatorKeys != "" {
		t.Fatalf("%+v %v", s, warns)
	}
}

func TestOutboundSettings(t *testing.T) {
	file := map[string]string{"mgmt": "rediss://a:1", "mgmt_pin": "sha256:aa"}
	s, warns := Resolve(file, ParseCmdline("zos.mgmt=rediss://10.0.2.2:6380"), false)
	if len(warns) != 0 {
		t.Fatalf("warnings: %v", warns)
	}
	if s.Outbound.URL != "rediss://10.0.2.2:6380" || s.Outbound.Pin != "sha256:aa" {
		t.Fatalf("%+v", s.Outbound)
	}
	if s.Sources["mgmt"] != "cmdline" || s.Sources["mgmt_pin"] != "file" {
		t.Fatalf("sources %v", s.Sources)
	}
	s, _ = Resolve(nil, ParseCmdline("runmode=prod"), false)
	if s.Outbound.URL != "" {
		t.Fatalf("outbound without zos.mgmt: %+v", s.Outbound)
	}
}

// The shared password is gone: a node booted with the old setting says so instead of silently ignoring it.
func TestPasswordIsRefusedLoudly(t *testing.T) {
	s, warns := Resolve(map[string]string{"password": "p"}, ParseCmdline("zos.password=q"), false)
	if s.OperatorKeys != "" || len(warns) != 2 || !strings.Contains(warns[0], "zos.password is no longer used") ||
		!strings.Contains(warns[1], "operator_keys") {
		t.Fatalf("%+v %q", s, warns)
	}
}
