package info

import (
	"encoding/hex"
	"net"
	"os"
	"path"
	"sort"
	"strconv"
	"strings"
)

// Port is a listening socket (0-core's info.port shape).
type Port struct {
	Network string `json:"network"` // tcp, tcp6, udp, udp6, unix
	Port    uint16 `json:"port,omitempty"`
	IP      string `json:"ip,omitempty"`
	Unix    string `json:"unix,omitempty"`
	PID     int    `json:"pid"`
	inode   uint64
}

// Ports lists listening TCP/UDP sockets (udp: bound, state 07) and
// listening unix sockets with the pid owning each.
func Ports() []Port {
	var out []Port
	for _, network := range []string{"tcp", "tcp6", "udp", "udp6"} {
		for i, line := range strings.Split(read("/proc/net/"+network), "\n") {
			f := strings.Fields(line)
			if i == 0 || len(f) < 10 || (f[3] != "0A" && f[3] != "07") {
				continue
			}
			hostPort := strings.SplitN(f[1], ":", 2)
			if len(hostPort) != 2 {
				continue
			}
			port, err := strconv.ParseUint(hostPort[1], 16, 16)
			if err != nil {
				continue
			}
			inode, _ := strconv.ParseUint(f[9], 10, 64)
			out = append(out, Port{Network: network, Port: uint16(port), IP: procIP(hostPort[0]), inode: inode})
		}
	}
	for i, line := range strings.Split(read("/proc/net/unix"), "\n") {
		f := strings.Fields(line)
		// Num RefCount Protocol Flags Type St Inode Path; flags 00010000 = listening.
		if i == 0 || len(f) < 8 || f[3] != "00010000" {
			continue
		}
		inode, _ := strconv.ParseUint(f[6], 10, 64)
		out = append(out, Port{Network: "unix", Unix: path.Clean(f[7]), inode: inode})
	}
	owners := socketOwners()
	for i := range out {
		out[i].PID = owners[out[i].inode]
	}
	sort.SliceStable(out, func(a, b int) bool {
		if out[a].Network != out[b].Network {
			return out[a].Network < out[b].Network
		}
		return out[a].Port < out[b].Port
	})
	if out == nil {
		out = []Port{}
	}
	return out
}

// procIP decodes an address of /proc/net/tcp: hex, each 32-bit word in
// host (little-endian) order.
func procIP(s string) string {
	b, err := hex.DecodeString(s)
	if err != nil || (len(b) != 4 && len(b) != 16) {
		return ""
	}
	for i := 0; i < len(b); i += 4 {
		b[i], b[i+1], b[i+2], b[i+3] = b[i+3], b[i+2], b[i+1], b[i]
	}
	return net.IP(b).String()
}

// socketOwners maps socket inodes to the pid holding them.
func socketOwners() map[uint64]int {
	m := map[uint64]int{}
	ents, _ := os.ReadDir(Root + "/proc")
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		dir := Root + "/proc/" + e.Name() + "/fd"
		fds, _ := os.ReadDir(dir)
		for _, fd := range fds {
			t, err := os.Readlink(dir + "/" + fd.Name())
			if err != nil || !strings.HasPrefix(t, "socket:[") {
				continue
			}
			if n, err := strconv.ParseUint(strings.TrimSuffix(t[8:], "]"), 10, 64); err == nil {
				if _, ok := m[n]; !ok {
					m[n] = pid
				}
			}
		}
	}
	return m
}
