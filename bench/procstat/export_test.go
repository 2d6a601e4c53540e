package procstat

var (
	ParseStat    = parseStat
	ParseMachine = parseMachine
	StatusKiB    = statusKiB
)
