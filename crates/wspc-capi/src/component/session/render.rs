//! How an action the session decided on is described to the caller: as an [`Action`] for
//! Rust callers, or placed for the C layer ([`CAction`](crate::component::CAction)). The
//! session decides once and renders the result directly, without an intermediate value.

use super::action::{Action, AppBuffer, Received, SendBuffers};
use crate::types::BufferType;

/// A description of actions, built from what the session hands out.
pub(crate) trait Render<'a> {
    /// The description.
    type Out;

    /// `NO_ACTION`.
    fn none() -> Self::Out;

    /// `SEND_TO_NETWORK` (`app_context` is `None` for a generated frame).
    fn write(
        self,
        context: usize,
        buffer_type: BufferType,
        buffers: SendBuffers<'a>,
        app_context: Option<usize>,
    ) -> Self::Out;

    /// `INDICATE_SEND_COMPLETE`.
    fn indicate_send(
        self,
        context: usize,
        buffer_type: BufferType,
        app_context: usize,
    ) -> Self::Out;

    /// `RECEIVE_FROM_NETWORK` into `buffer`.
    fn read(self, context: usize, buffer: &'a mut [u8], app_context: usize) -> Self::Out;

    /// `INDICATE_RECEIVE_COMPLETE` delivering `data` (to `target`, if the receive has one).
    fn indicate_receive(
        self,
        context: usize,
        buffer_type: BufferType,
        data: Received<'a>,
        target: Option<AppBuffer>,
        app_context: usize,
    ) -> Self::Out;
}

/// Renders [`Action`]s.
pub(crate) struct AsAction;

impl<'a> Render<'a> for AsAction {
    type Out = Action<'a>;

    #[inline]
    fn none() -> Action<'a> {
        Action::NoAction
    }

    #[inline]
    fn write(
        self,
        context: usize,
        buffer_type: BufferType,
        buffers: SendBuffers<'a>,
        app_context: Option<usize>,
    ) -> Action<'a> {
        Action::SendToNetwork {
            context,
            buffer_type,
            buffers,
            app_context,
        }
    }

    #[inline]
    fn indicate_send(
        self,
        context: usize,
        buffer_type: BufferType,
        app_context: usize,
    ) -> Action<'a> {
        Action::IndicateSendComplete {
            context,
            buffer_type,
            app_context,
        }
    }

    #[inline]
    fn read(self, context: usize, buffer: &'a mut [u8], app_context: usize) -> Action<'a> {
        Action::ReceiveFromNetwork {
            context,
            buffer,
            app_context,
        }
    }

    #[inline]
    fn indicate_receive(
        self,
        context: usize,
        buffer_type: BufferType,
        data: Received<'a>,
        target: Option<AppBuffer>,
        app_context: usize,
    ) -> Action<'a> {
        Action::IndicateReceiveComplete {
            context,
            buffer_type,
            data,
            target,
            app_context,
        }
    }
}
