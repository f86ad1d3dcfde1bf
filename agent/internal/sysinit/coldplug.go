package sysinit

import (
	"bufio"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"syscall"

	"zos-build/agent/internal/reaper"
)

// ModulesRoot is where the kernel's modules and depmod's indexes live (/lib/modules/<release>).
var ModulesRoot = "/lib/modules"

// Coldplug loads the drivers of the devices the kernel found before init ran, for kernels built
// with modules. Every device publishes a modalias in sysfs; the ones that match a pattern of
// depmod's modules.alias go to a single modprobe (which resolves them again, with dependencies,
// options and blacklists). No process runs when nothing matches: on a slow or emulated CPU every
// process costs milliseconds. Loading a driver can reveal more devices (a bus, a hub), so a pass
// runs again while the previous one loaded modules, at most three times. Returns the number of
// modules loaded in the end; errors are modprobe's, reported, not fatal.
func Coldplug(r *reaper.Reaper) (int, error) {
	release, err := os.ReadFile("/proc/sys/kernel/osrelease")
	if err != nil {
		return 0, err
	}
	patterns, err := aliasPatterns(filepath.Join(ModulesRoot, strings.TrimSpace(string(release)), "modules.alias"))
	if os.IsNotExist(err) {
		return loadedModules(), nil // a kernel without modules
	}
	if err != nil {
		return 0, err
	}
	loaded := loadedModules()
	for pass := 0; pass < 3; pass++ {
		aliases := matchingAliases(deviceAliases(), patterns)
		if len(aliases) == 0 {
			break
		}
		// -b: honour blacklists; -a: every argument is a module (or alias) to load.
		if _, err := r.Run(tool("modprobe"), append([]string{"modprobe", "-a", "-b"}, aliases...),
			[]string{"PATH=" + toolPath}, nil, nil); err != nil {
			return loaded, err
		}
		before := loaded
		if loaded = loadedModules(); loaded <= before {
			break
		}
	}
	return loaded, nil
}

// aliasPatterns reads the patterns (fnmatch syntax) of a modules.alias file.
func aliasPatterns(file string) ([]string, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		// alias <pattern> <module>
		if fields := strings.Fields(sc.Text()); len(fields) == 3 && fields[0] == "alias" {
			out = append(out, fields[1])
		}
	}
	return out, sc.Err()
}

// deviceAliases returns the distinct modaliases of the devices in sysfs (/sys/bus/*/devices/*/modalias),
// sorted. Read with as few system calls as it takes (one open per device, which fails for devices
// without a modalias): under emulation each costs tens of microseconds, and a machine has hundreds
// of devices.
func deviceAliases() []string {
	seen := map[string]bool{}
	var out []string
	buf := make([]byte, 4096)
	buses, _ := os.ReadDir("/sys/bus")
	for _, bus := range buses {
		dir := "/sys/bus/" + bus.Name() + "/devices/"
		devices, _ := os.ReadDir(dir)
		for _, dev := range devices {
			fd, err := syscall.Open(dir+dev.Name()+"/modalias", syscall.O_RDONLY|syscall.O_CLOEXEC, 0)
			if err != nil {
				continue
			}
			n, _ := syscall.Read(fd, buf)
			syscall.Close(fd)
			if n <= 0 {
				continue
			}
			if alias := strings.TrimSpace(string(buf[:n])); alias != "" && !seen[alias] {
				seen[alias] = true
				out = append(out, alias)
			}
		}
	}
	sort.Strings(out)
	return out
}

// matchingAliases keeps the aliases some pattern matches. fnmatch negates a class with "[!",
// path.Match with "[^"; modaliases hold no "/", which path.Match treats apart. A pattern
// path.Match cannot read counts as a match: modprobe decides.
func matchingAliases(aliases, patterns []string) []string {
	globs := make([]string, len(patterns))
	for i, p := range patterns {
		globs[i] = strings.ReplaceAll(p, "[!", "[^")
	}
	var out []string
	for _, a := range aliases {
		for _, g := range globs {
			if ok, err := path.Match(g, a); ok || err != nil {
				out = append(out, a)
				break
			}
		}
	}
	return out
}

// loadedModules counts the lines of /proc/modules.
func loadedModules() int {
	b, err := os.ReadFile("/proc/modules")
	if err != nil {
		return 0
	}
	return strings.Count(string(b), "\n")
}
