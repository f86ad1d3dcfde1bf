// Package info reads machine facts from /proc, /sys and /etc for the info.*
// and process.list commands. Everything comes from the kernel's files, so
// the agent needs no external tools for it.
package info

import (
	"bufio"
	"io/ioutil"
	"net"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Root is prefixed to every path (tests point it at a fake tree).
var Root = ""

func read(p string) string {
	b, err := ioutil.ReadFile(Root + p)
	if err != nil {
		return ""
	}
	return string(b)
}

// CPU is one logical CPU from /proc/cpuinfo.
type CPU struct {
	Processor int      `json:"processor"`
	Model     string   `json:"model_name"`
	MHz       float64  `json:"mhz"`
	Cores     int      `json:"cores"`
	Flags     []string `json:"flags"`
}

// CPUs parses /proc/cpuinfo.
func CPUs() []CPU {
	var out []CPU
	var cur *CPU
	for _, line := range strings.Split(read("/proc/cpuinfo"), "\n") {
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		switch k {
		case "processor":
			n, _ := strconv.Atoi(v)
			out = append(out, CPU{Processor: n})
			cur = &out[len(out)-1]
		case "model name":
			if cur != nil {
				cur.Model = v
			}
		case "cpu MHz":
			if cur != nil {
				cur.MHz, _ = strconv.ParseFloat(v, 64)
			}
		case "cpu cores":
			if cur != nil {
				cur.Cores, _ = strconv.Atoi(v)
			}
		case "flags":
			if cur != nil {
				cur.Flags = strings.Fields(v)
			}
		}
	}
	if out == nil {
		out = []CPU{}
	}
	return out
}

// Mem is /proc/meminfo in bytes.
type Mem struct {
	Total     uint64  `json:"total"`
	Free      uint64  `json:"free"`
	Available uint64  `json:"available"`
	Buffers   uint64  `json:"buffers"`
	Cached    uint64  `json:"cached"`
	SwapTotal uint64  `json:"swap_total"`
	SwapFree  uint64  `json:"swap_free"`
	Used      uint64  `json:"used"`
	UsedPct   float64 `json:"used_percent"`
}

// Memory parses /proc/meminfo.
func Memory() Mem {
	vals := map[string]uint64{}
	for _, line := range strings.Split(read("/proc/meminfo"), "\n") {
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		n, err := strconv.ParseUint(f[1], 10, 64)
		if err != nil {
			continue
		}
		if len(f) > 2 && f[2] == "kB" {
			n *= 1024
		}
		vals[strings.TrimSuffix(f[0], ":")] = n
	}
	m := Mem{Total: vals["MemTotal"], Free: vals["MemFree"], Available: vals["MemAvailable"],
		Buffers: vals["Buffers"], Cached: vals["Cached"], SwapTotal: vals["SwapTotal"], SwapFree: vals["SwapFree"]}
	if m.Total >= m.Available {
		m.Used = m.Total - m.Available
	}
	if m.Total > 0 {
		m.UsedPct = float64(m.Used) * 100 / float64(m.Total)
	}
	return m
}

// Disk is one mounted filesystem.
type Disk struct {
	Device     string `json:"device"`
	Mountpoint string `json:"mountpoint"`
	Fstype     string `json:"fstype"`
	Opts       string `json:"opts"`
	Total      uint64 `json:"total"`
	Free       uint64 `json:"free"`
	Used       uint64 `json:"used"`
}

// Disks lists mounts from /proc/self/mounts with their sizes, plus the block
// devices from /sys/block.
func Disks() map[string]interface{} {
	mounts := []Disk{}
	for _, line := range strings.Split(read("/proc/self/mounts"), "\n") {
		f := strings.Fields(line)
		if len(f) < 4 {
			continue
		}
		d := Disk{Device: f[0], Mountpoint: unescape(f[1]), Fstype: f[2], Opts: f[3]}
		var st syscall.Statfs_t
		if syscall.Statfs(d.Mountpoint, &st) == nil {
			bs := uint64(st.Bsize)
			d.Total, d.Free = st.Blocks*bs, st.Bavail*bs
			if st.Blocks >= st.Bfree {
				d.Used = (st.Blocks - st.Bfree) * bs
			}
		}
		mounts = append(mounts, d)
	}
	type blk struct {
		Name  string `json:"name"`
		Size  uint64 `json:"size"`
		Model string `json:"model,omitempty"`
		Rota  bool   `json:"rotational"`
	}
	blocks := []blk{}
	ents, _ := ioutil.ReadDir(Root + "/sys/block")
	for _, e := range ents {
		name := e.Name()
		if strings.HasPrefix(name, "loop") || strings.HasPrefix(name, "ram") {
			continue
		}
		sectors, _ := strconv.ParseUint(strings.TrimSpace(read("/sys/block/"+name+"/size")), 10, 64)
		blocks = append(blocks, blk{Name: name, Size: sectors * 512,
			Model: strings.TrimSpace(read("/sys/block/" + name + "/device/model")),
			Rota:  strings.TrimSpace(read("/sys/block/"+name+"/queue/rotational")) == "1"})
	}
	return map[string]interface{}{"mounts": mounts, "blocks": blocks}
}

func unescape(s string) string {
	// /proc/mounts escapes space, tab, newline and backslash as \ooo.
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+4 <= len(s) {
			if n, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(n))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// NIC is one network interface.
type NIC struct {
	Name    string   `json:"name"`
	MAC     string   `json:"hardwareaddr"`
	MTU     int      `json:"mtu"`
	Up      bool     `json:"up"`
	Flags   string   `json:"flags"`
	Addrs   []string `json:"addrs"`
	Speed   int      `json:"speed,omitempty"`
	RxBytes uint64   `json:"rx_bytes"`
	TxBytes uint64   `json:"tx_bytes"`
}

// NICs lists interfaces via the standard library plus /sys counters.
func NICs() []NIC {
	out := []NIC{}
	ifs, err := net.Interfaces()
	if err != nil {
		return out
	}
	for _, i := range ifs {
		n := NIC{Name: i.Name, MAC: i.HardwareAddr.String(), MTU: i.MTU, Up: i.Flags&net.FlagUp != 0,
			Flags: i.Flags.String(), Addrs: []string{}}
		if as, err := i.Addrs(); err == nil {
			for _, a := range as {
				n.Addrs = append(n.Addrs, a.String())
			}
		}
		n.Speed, _ = strconv.Atoi(strings.TrimSpace(read("/sys/class/net/" + i.Name + "/speed")))
		n.RxBytes, _ = strconv.ParseUint(strings.TrimSpace(read("/sys/class/net/"+i.Name+"/statistics/rx_bytes")), 10, 64)
		n.TxBytes, _ = strconv.ParseUint(strings.TrimSpace(read("/sys/class/net/"+i.Name+"/statistics/tx_bytes")), 10, 64)
		out = append(out, n)
	}
	return out
}

// ParseOSRelease parses /etc/os-release style KEY=value lines.
func ParseOSRelease(s string) map[string]string {
	out := map[string]string{}
	sc := bufio.NewScanner(strings.NewReader(s))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			continue
		}
		if len(v) >= 2 && (v[0] == '"' || v[0] == '\'') && v[len(v)-1] == v[0] {
			v = v[1 : len(v)-1]
		}
		out[k] = v
	}
	return out
}

// Uptime returns the machine's uptime in seconds.
func Uptime() float64 {
	f := strings.Fields(read("/proc/uptime"))
	if len(f) == 0 {
		return 0
	}
	v, _ := strconv.ParseFloat(f[0], 64)
	return v
}

func utsString(a [65]int8) string {
	b := make([]byte, 0, len(a))
	for _, c := range a {
		if c == 0 {
			break
		}
		b = append(b, byte(c))
	}
	return string(b)
}

// OS describes the system: os-release, uname, hostname, uptime.
func OS() map[string]interface{} {
	var u syscall.Utsname
	syscall.Uname(&u)
	host, _ := os.Hostname()
	return map[string]interface{}{
		"os_release": ParseOSRelease(read("/etc/os-release")),
		"kernel": map[string]string{
			"sysname": utsString(u.Sysname), "release": utsString(u.Release),
			"version": utsString(u.Version), "machine": utsString(u.Machine),
		},
		"hostname":  host,
		"uptime":    Uptime(),
		"boot_time": time.Now().Add(-time.Duration(Uptime() * float64(time.Second))).Unix(),
		"cmdline":   strings.TrimSpace(redactCmdline(read("/proc/cmdline"))),
	}
}

// redactCmdline hides secrets on the kernel command line.
func redactCmdline(s string) string {
	f := strings.Fields(s)
	for i, p := range f {
		if strings.HasPrefix(p, "zos.password=") {
			f[i] = "zos.password=***"
		}
	}
	return strings.Join(f, " ")
}

// Proc is one process from /proc/<pid>.
type Proc struct {
	Pid     int      `json:"pid"`
	PPid    int      `json:"ppid"`
	Name    string   `json:"name"`
	State   string   `json:"state"`
	Cmdline []string `json:"cmdline"`
	RSS     uint64   `json:"rss"`
	VSize   uint64   `json:"vms"`
	CPUTime float64  `json:"cpu_seconds"`
	Threads int      `json:"threads"`
	Start   float64  `json:"start_seconds"` // since boot
}

const clkTck = 100 // USER_HZ is 100 on every Linux architecture we target

// ReadProc reads /proc/<pid>/stat and cmdline.
func ReadProc(pid int) (Proc, bool) {
	stat := read("/proc/" + strconv.Itoa(pid) + "/stat")
	l, r := strings.IndexByte(stat, '('), strings.LastIndexByte(stat, ')')
	if l < 0 || r < l {
		return Proc{}, false
	}
	p := Proc{Pid: pid, Name: stat[l+1 : r]}
	f := strings.Fields(stat[r+1:])
	// f[0] is field 3 (state) of proc(5).
	if len(f) < 22 {
		return Proc{}, false
	}
	num := func(i int) uint64 { n, _ := strconv.ParseUint(f[i], 10, 64); return n }
	p.State = f[0]
	p.PPid = int(num(1))
	p.CPUTime = float64(num(11)+num(12)) / clkTck
	p.Threads = int(num(17))
	p.Start = float64(num(19)) / clkTck
	p.VSize = num(20)
	p.RSS = num(21) * uint64(os.Getpagesize())
	cl := strings.TrimRight(read("/proc/"+strconv.Itoa(pid)+"/cmdline"), "\x00")
	p.Cmdline = []string{}
	if cl != "" {
		p.Cmdline = strings.Split(cl, "\x00")
	}
	return p, true
}

// Processes lists all processes.
func Processes() []Proc {
	out := []Proc{}
	ents, _ := ioutil.ReadDir(Root + "/proc")
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if p, ok := ReadProc(pid); ok {
			out = append(out, p)
		}
	}
	sort.Slice(out, func(a, b int) bool { return out[a].Pid < out[b].Pid })
	return out
}

// Exists reports whether path exists under Root.
func Exists(p string) bool {
	_, err := os.Stat(filepath.Join(Root, p))
	return err == nil
}
