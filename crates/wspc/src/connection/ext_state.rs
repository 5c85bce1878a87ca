//! The negotiated extension's own state (permessage-deflate's compressor and
//! decompressor) under the shared [`Budget`](crate::Budget): granted before it is
//! allocated, charged as it is, given back as it is freed.
//!
//! A message whose encoding state the budget cannot hold goes out as it is (RFC 7692
//! allows any message to be sent uncompressed; with context takeover the peer's window
//! only holds compressed messages, so the context stays valid). A message whose decoding
//! state it cannot hold fails the connection with 1009, as its data would.

use crate::budget::StateUse;
use crate::error::Error;
use crate::message::Event;

use super::Connection;

impl Connection {
    /// Whether the extension may encode the message it just took: its state exists, or
    /// the budget grants what making it takes.
    pub(super) fn grant_encode_state(&mut self) -> bool {
        if !self.ext_state.is_active() {
            return true;
        }
        let Some(ext) = self.ext.as_ref() else {
            return true;
        };
        let need = ext.state_memory().to_encode;
        self.ext_state.try_grow(need, StateUse::Encode).is_ok()
    }

    /// Grants what decoding a message takes; `Err` with the failure event if the budget
    /// cannot hold it.
    pub(super) fn grant_decode_state(&mut self) -> Result<(), Event> {
        if !self.ext_state.is_active() {
            return Ok(());
        }
        let Some(ext) = self.ext.as_ref() else {
            return Ok(());
        };
        let need = ext.state_memory().to_decode;
        if self.ext_state.try_grow(need, StateUse::Decode).is_err() {
            return Err(self.fail(Error::BudgetExhausted));
        }
        Ok(())
    }

    /// Charges what the extension's state holds now (after a call that may have made or
    /// freed some).
    #[inline]
    pub(super) fn sync_ext_state(&mut self) {
        if !self.ext_state.is_active() {
            return;
        }
        if let Some(ext) = self.ext.as_ref() {
            self.ext_state.set(ext.state_memory().held);
        }
    }
}
