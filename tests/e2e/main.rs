//! Black-box tests of Reserv: the real server over HTTP and WebSocket, on SQLite and,
//! with `TEST_DATABASE_URL`, on PostgreSQL.

mod accounts;
mod activation;
mod audit_trail;
mod authorization_matrix;
mod bad_input;
mod binders;
mod channels;
mod checklists;
mod classification;
mod crisis_log;
mod directory;
mod fallback_site;
mod floor_reports;
mod impact;
mod incidents;
mod messages;
mod notices;
mod outbox_processes;
mod plan_upkeep;
mod plans;
mod playbooks;
mod protection;
mod publishing;
mod reach;
mod read_path;
mod routines;
mod second_factor;
mod sessions;
mod sign_in;
mod sms_delivery;
mod sms_failover;
mod sms_inbound;
mod status_page;
mod subscriptions;
mod web_push;
