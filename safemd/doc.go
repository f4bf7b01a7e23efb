// Package safemd renders the Markdown of ticket messages to HTML with raw
// HTML left out, for the ticket pages and the mails alike.
package safemd
