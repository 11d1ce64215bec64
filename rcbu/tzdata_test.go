package rcbu_test

// The tests resolve Windows zones on machines without /usr/share/zoneinfo
// too; the library itself leaves that choice to the main package.
import _ "time/tzdata"
