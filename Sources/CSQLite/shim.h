// The session extension (sqlite3session_*, sqlite3changeset_*) is in the system libsqlite3;
// its header declares it only under these two macros.
#define SQLITE_ENABLE_SESSION 1
#define SQLITE_ENABLE_PREUPDATE_HOOK 1
#include <sqlite3.h>
