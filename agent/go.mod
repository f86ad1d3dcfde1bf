module zos-build/agent

go 1.19
