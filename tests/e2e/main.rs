//! Black-box tests of Reserv: the real server over HTTP and WebSocket, on SQLite and,
//! with `TEST_DATABASE_URL`, on PostgreSQL.

mod accounts;
mod audit_trail;
mod bad_input;
mod crisis_log;
mod directory;
mod impact;
mod incidents;
mod messages;
mod plans;
mod protection;
mod read_path;
mod routines;
mod sign_in;
mod sms_delivery;
mod subscriptions;
