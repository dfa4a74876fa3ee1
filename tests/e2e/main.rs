//! Black-box tests of Reserv: the real server over HTTP and WebSocket, on SQLite and,
//! with `TEST_DATABASE_URL`, on PostgreSQL.

mod bad_input;
mod directory;
mod sign_in;
