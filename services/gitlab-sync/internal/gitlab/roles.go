package gitlab

import (
	"strconv"
	"strings"
)

// levels are GitLab's access levels by role name (the rules' vocabulary).
var levels = map[string]int{
	"minimal_access": 5, "guest": 10, "planner": 15, "reporter": 20, "security_manager": 25,
	"developer": 30, "maintainer": 40, "owner": 50, "admin": 60,
}

// Level returns the access level of a role name.
func Level(role string) (int, bool) {
	l, ok := levels[role]
	return l, ok
}

// Role names an access level; a level GitLab added after this code is
// named "level-<n>" rather than rejected.
func Role(level int) string {
	for r, l := range levels {
		if l == level {
			return r
		}
	}
	return "level-" + strconv.Itoa(level)
}

// Rank orders roles by access level ("" and unknown names rank 0).
func Rank(role string) int {
	if l, ok := levels[role]; ok {
		return l
	}
	if n, ok := strings.CutPrefix(role, "level-"); ok {
		l, _ := strconv.Atoi(n)
		return l
	}
	return 0
}
