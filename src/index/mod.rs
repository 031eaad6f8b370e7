//! The `index` layer: the index-notation IR over a hash-consed DAG of matrix
//! nodes.
//!
//! [`Graph`] holds matrix-valued nodes (shared, interned); a [`Tensor`] is a
//! sum of products of indexed factors over those nodes. [`lower`] writes a
//! node entry by entry, [`contract`] removes Kronecker deltas, and [`raise`]
//! turns index notation back into matrix operations. Invariant: this layer
//! imports only `syntax` (and no numeric code); it never prints.

mod contract;
mod error;
mod export;
mod graph;
mod lower;
mod raise;
mod term;

pub use contract::contract;
pub use error::{GraphError, Limit, Operation, Reason, Undefined};
pub use export::{
    bare_gradients, number_expr, shared_nodes, ExportOptions, FillWriting, MIN_SHARED_SIZE,
};
pub use graph::{is_one, is_scalar, scalar_dims, Dims, Graph, Id, Node, Num};
pub use lower::{entry, lower, product, MAX_INDEX_TERMS};
pub use raise::{raise, RaiseRule, Raised};
pub use term::{
    collect, compact, negated, slots, untransposed, Factor, IndexSpace, Ix, Tensor, Term,
};
