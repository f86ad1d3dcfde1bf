package agent

import (
	"reflect"
	"testing"
)

// Outputs as btrfs-progs 6.x prints them.
func TestParseBtrfs(t *testing.T) {
	show := `Label: 'data'  uuid: 3c1f7a5e-2b8d-4c5e-9f1a-0b2c3d4e5f60
	Total devices 2 FS bytes used 196608
	devid    1 size 1073741824 used 234881024 path /dev/vdb
	devid    2 size 1073741824 used 234881024 path /dev/vdc

Label: none  uuid: 11111111-2222-3333-4444-555555555555
	Total devices 1 FS bytes used 114688
	devid    1 size 536870912 used 92274688 path /dev/vdd
`
	got := parseBtrfsShow(show)
	want := []BtrfsFS{
		{Label: "data", UUID: "3c1f7a5e-2b8d-4c5e-9f1a-0b2c3d4e5f60", TotalDevices: 2, Used: 196608, Devices: []BtrfsDevice{
			{DevID: 1, Size: 1073741824, Used: 234881024, Path: "/dev/vdb"}, {DevID: 2, Size: 1073741824, Used: 234881024, Path: "/dev/vdc"}}},
		{Label: "", UUID: "11111111-2222-3333-4444-555555555555", TotalDevices: 1, Used: 114688, Devices: []BtrfsDevice{
			{DevID: 1, Size: 536870912, Used: 92274688, Path: "/dev/vdd"}}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("%+v", got)
	}
	subs := parseSubvolList("ID 256 gen 9 top level 5 path sub one\nID 257 gen 10 top level 5 path s2\n")
	if len(subs) != 2 || subs[0] != (Subvol{ID: 256, Gen: 9, TopLevel: 5, Path: "sub one"}) {
		t.Fatalf("%+v", subs)
	}
	df := parseBtrfsDF("Data, RAID1: total=218103808, used=65536\nMetadata, RAID1: total=218103808, used=131072\n")
	if df["data"]["profile"] != "RAID1" || df["metadata"]["used"] != uint64(131072) {
		t.Fatalf("%+v", df)
	}
}

func TestNftHandleAndRule(t *testing.T) {
	out := `{"nftables": [{"add": {"rule": {"family": "inet", "table": "filter", "chain": "input", "handle": 7, "expr": []}}}]}`
	if h := handleOf([]byte(out)); h != 7 {
		t.Fatalf("handle %d", h)
	}
	listing := "table inet filter { # handle 1\n\tchain input { # handle 1\n\t\ttype filter hook input priority filter; policy accept;\n" +
		"\t\ttcp dport 8080 accept # handle 3\n\t\tiifname \"eth0\" tcp dport 22 accept # handle 5\n\t}\n}\n"
	if h := handleInListing(listing, `iifname "eth0" tcp dport 22 accept`); h != 5 {
		t.Fatalf("listing handle %d", h)
	}
	a := portArgs{Port: 8080, Interface: "eth0", Subnet: "10.0.0.0/8"}
	text, words, err := a.rule()
	if err != nil || text != `iifname "eth0" ip saddr 10.0.0.0/8 tcp dport 8080 accept` || len(words) != 9 {
		t.Fatalf("%q %q %v", text, words, err)
	}
	for _, bad := range []portArgs{{Port: 0}, {Port: 22, Interface: "eth0\" accept; flush ruleset"}, {Port: 22, Subnet: "x"}} {
		if _, _, err := bad.rule(); err == nil {
			t.Errorf("accepted %+v", bad)
		}
	}
}
