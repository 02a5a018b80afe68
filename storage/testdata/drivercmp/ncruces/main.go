// Command ncruces measures github.com/ncruces/go-sqlite3.
package main

import (
	_ "github.com/ncruces/go-sqlite3/driver"

	"drivercmp/insertrate"
)

func main() { insertrate.Run("sqlite3") }
