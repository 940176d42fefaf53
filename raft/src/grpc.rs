//! Raft RPC over gRPC (tonic): the server side mounted on the raft listener, and the client
//! side used by openraft to reach peers.
//!
//! Payloads are MessagePack encodings of the openraft request/response types; a remote Raft
//! error travels in `RaftReply.error` so openraft receives a proper `RemoteError`.

use std::collections::HashMap;
use std::time::Duration;

use openraft::error::{NetworkError, RPCError, RemoteError, Timeout, Unreachable};
use openraft::network::RPCOption;
use openraft::{AnyError, RPCTypes, RaftNetwork, RaftNetworkFactory};
use serde::Serialize;
use serde::de::DeserializeOwned;
use tonic::transport::{Channel, Endpoint};
use tonic::{Code, Request, Response, Status};

use crate::typ::{
    AppendEntriesRequest, AppendEntriesResponse, InstallSnapshotRequest, InstallSnapshotResponse,
    Raft, RpcError, TypeConfig, VoteRequest, VoteResponse,
};
use crate::{Node, NodeId};

/// Generated protobuf and tonic code for `proto/raft.proto`.
#[allow(missing_docs, clippy::all, clippy::pedantic)]
pub mod pb {
    tonic::include_proto!("cairn.raft.v1");
}

use pb::raft_service_client::RaftServiceClient;
pub use pb::raft_service_server::RaftServiceServer;
use pb::{RaftReply, RaftRequest};

/// How long to wait for a TCP connection to a peer.
const CONNECT_TIMEOUT: Duration = Duration::from_millis(500);

fn encode<T: Serialize>(v: &T) -> Result<Vec<u8>, rmp_serde::encode::Error> {
    rmp_serde::to_vec_named(v)
}

// ---------------------------------------------------------------------------------------------
// Server

/// The gRPC service delivering peer RPCs to the local openraft instance.
#[derive(Clone)]
pub struct RaftGrpcService {
    raft: Raft,
}

impl RaftGrpcService {
    pub(crate) fn new(raft: Raft) -> Self {
        Self { raft }
    }
}

fn decode_req<T: DeserializeOwned>(req: Request<RaftRequest>) -> Result<T, Status> {
    rmp_serde::from_slice(&req.into_inner().data)
        .map_err(|e| Status::invalid_argument(format!("cannot decode raft request: {e}")))
}

fn reply<T: Serialize, E: Serialize>(res: Result<T, E>) -> Result<Response<RaftReply>, Status> {
    let out = match res {
        Ok(v) => RaftReply {
            data: encode(&v)
                .map_err(|e| Status::internal(format!("cannot encode raft reply: {e}")))?,
            error: Vec::new(),
        },
        Err(err) => RaftReply {
            data: Vec::new(),
            error: encode(&err)
                .map_err(|e| Status::internal(format!("cannot encode raft error: {e}")))?,
        },
    };
    Ok(Response::new(out))
}

#[tonic::async_trait]
impl pb::raft_service_server::RaftService for RaftGrpcService {
    async fn append_entries(
        &self,
        req: Request<RaftRequest>,
    ) -> Result<Response<RaftReply>, Status> {
        let rpc: AppendEntriesRequest = decode_req(req)?;
        reply(self.raft.append_entries(rpc).await)
    }

    async fn vote(&self, req: Request<RaftRequest>) -> Result<Response<RaftReply>, Status> {
        let rpc: VoteRequest = decode_req(req)?;
        reply(self.raft.vote(rpc).await)
    }

    async fn install_snapshot(
        &self,
        req: Request<RaftRequest>,
    ) -> Result<Response<RaftReply>, Status> {
        let rpc: InstallSnapshotRequest = decode_req(req)?;
        reply(self.raft.install_snapshot(rpc).await)
    }
}

// ---------------------------------------------------------------------------------------------
// Client

/// Creates gRPC clients to peers; one lazily connected channel per peer address.
pub(crate) struct GrpcNetworkFactory {
    id: NodeId,
    channels: HashMap<String, Channel>,
}

impl GrpcNetworkFactory {
    pub(crate) fn new(id: NodeId) -> Self {
        Self {
            id,
            channels: HashMap::new(),
        }
    }

    fn channel(&mut self, addr: &str) -> Result<Channel, String> {
        if let Some(c) = self.channels.get(addr) {
            return Ok(c.clone());
        }
        let ep = Endpoint::from_shared(format!("http://{addr}"))
            .map_err(|e| format!("invalid raft address {addr:?}: {e}"))?
            .connect_timeout(CONNECT_TIMEOUT)
            .tcp_nodelay(true)
            .http2_keep_alive_interval(Duration::from_secs(10))
            .keep_alive_while_idle(true);
        let ch = ep.connect_lazy();
        self.channels.insert(addr.to_string(), ch.clone());
        Ok(ch)
    }
}

impl RaftNetworkFactory<TypeConfig> for GrpcNetworkFactory {
    type Network = GrpcNetwork;

    async fn new_client(&mut self, target: NodeId, node: &Node) -> Self::Network {
        GrpcNetwork {
            id: self.id,
            target,
            node: node.clone(),
            client: self.channel(&node.raft_addr).map(|ch| {
                RaftServiceClient::new(ch)
                    .max_decoding_message_size(MAX_MESSAGE_BYTES)
                    .max_encoding_message_size(MAX_MESSAGE_BYTES)
            }),
        }
    }
}

/// Largest Raft RPC accepted or sent: the AppendEntries payload bound (entries per RPC times
/// the largest entry) with room for snapshot chunks and framing. A peer, or anything that can
/// reach the Raft port, cannot make a replica buffer more.
pub const MAX_MESSAGE_BYTES: usize =
    crate::config::MAX_PAYLOAD_ENTRIES as usize * crate::batcher::MAX_ENTRY_BYTES + (8 << 20);

/// A gRPC client to one peer.
pub(crate) struct GrpcNetwork {
    id: NodeId,
    target: NodeId,
    node: Node,
    client: Result<RaftServiceClient<Channel>, String>,
}

impl GrpcNetwork {
    /// Sends one RPC and decodes the reply, mapping failures to what openraft expects.
    async fn call<Req, Resp, E>(
        &mut self,
        action: RPCTypes,
        rpc: &Req,
        option: &RPCOption,
    ) -> Result<Resp, RPCError<NodeId, Node, openraft::error::RaftError<NodeId, E>>>
    where
        Req: Serialize,
        Resp: DeserializeOwned,
        E: std::error::Error + DeserializeOwned,
    {
        let client = match &mut self.client {
            Ok(c) => c,
            Err(msg) => return Err(Unreachable::new(&AnyError::error(msg.clone())).into()),
        };
        let data = encode(rpc).map_err(|e| NetworkError::new(&e))?;
        let mut req = Request::new(RaftRequest { data });
        req.set_timeout(option.hard_ttl());
        let res = match action {
            RPCTypes::AppendEntries => client.append_entries(req).await,
            RPCTypes::Vote => client.vote(req).await,
            RPCTypes::InstallSnapshot => client.install_snapshot(req).await,
        };
        let reply = match res {
            Ok(r) => r.into_inner(),
            Err(status) => {
                return Err(match status.code() {
                    Code::DeadlineExceeded | Code::Cancelled => Timeout {
                        action,
                        id: self.id,
                        target: self.target,
                        timeout: option.hard_ttl(),
                    }
                    .into(),
                    Code::Unavailable | Code::Unknown => Unreachable::new(&status).into(),
                    _ => NetworkError::new(&status).into(),
                });
            }
        };
        if !reply.error.is_empty() {
            let remote: openraft::error::RaftError<NodeId, E> =
                rmp_serde::from_slice(&reply.error).map_err(|e| NetworkError::new(&e))?;
            return Err(RemoteError::new_with_node(self.target, self.node.clone(), remote).into());
        }
        rmp_serde::from_slice(&reply.data).map_err(|e| NetworkError::new(&e).into())
    }
}

impl RaftNetwork<TypeConfig> for GrpcNetwork {
    async fn append_entries(
        &mut self,
        rpc: AppendEntriesRequest,
        option: RPCOption,
    ) -> Result<AppendEntriesResponse, RpcError> {
        self.call(RPCTypes::AppendEntries, &rpc, &option).await
    }

    async fn install_snapshot(
        &mut self,
        rpc: InstallSnapshotRequest,
        option: RPCOption,
    ) -> Result<InstallSnapshotResponse, RpcError<openraft::error::InstallSnapshotError>> {
        self.call(RPCTypes::InstallSnapshot, &rpc, &option).await
    }

    async fn vote(
        &mut self,
        rpc: VoteRequest,
        option: RPCOption,
    ) -> Result<VoteResponse, RpcError> {
        self.call(RPCTypes::Vote, &rpc, &option).await
    }
}
