package info

import (
	"os"
	"testing"
)

func TestParseOSRelease(t *testing.T) {
	m := ParseOSRelease("NAME=\"Zero OS\"\n# c\nVERSION_ID=1.2\nBUILD_ID='abc'\nbad\n")
	if m["NAME"] != "Zero OS" || m["VERSION_ID"] != "1.2" || m["BUILD_ID"] != "abc" || len(m) != 3 {
		t.Fatalf("%v", m)
	}
}

func TestReadSelf(t *testing.T) {
	p, ok := ReadProc(os.Getpid())
	if !ok || p.Pid != os.Getpid() || p.RSS == 0 || len(p.Cmdline) == 0 {
		t.Fatalf("%+v", p)
	}
	if len(Processes()) < 2 {
		t.Fatal("process list too short")
	}
}

func TestMachineInfo(t *testing.T) {
	if Memory().Total == 0 {
		t.Fatal("no memory total")
	}
	if len(CPUs()) == 0 {
		t.Fatal("no cpus")
	}
	if OS()["kernel"].(map[string]string)["sysname"] != "Linux" {
		t.Fatal("uname")
	}
	_ = Disks()
	_ = NICs()
}

func TestRedactCmdline(t *testing.T) {
	if got := redactCmdline("a zos.password=s3 b"); got != "a zos.password=*** b" {
		t.Fatal(got)
	}
}

func TestUnescape(t *testing.T) {
	if got := unescape(`/mnt/a\040b`); got != "/mnt/a b" {
		t.Fatal(got)
	}
}
