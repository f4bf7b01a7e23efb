// Package mailin receives the mails sent to the support address and hands
// each, raw, to a delivery function: an LMTP/SMTP listener the
// organisation's mail server forwards to, or a poller of an IMAP mailbox.
// It limits senders that flood, and knows nothing of tickets.
package mailin
