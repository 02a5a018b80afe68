// Command modernc measures modernc.org/sqlite.
package main

import (
	_ "modernc.org/sqlite"

	"drivercmp/insertrate"
)

func main() { insertrate.Run("sqlite") }
