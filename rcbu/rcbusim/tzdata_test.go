package rcbusim

// The tests resolve Windows zones on machines without /usr/share/zoneinfo
// too; the simulator itself leaves that choice to the main package.
import _ "time/tzdata"
