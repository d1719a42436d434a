//! `GET /v1/models` and `GET /v1/models/{model}`.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::common::{ListObject, object_marker};

object_marker!(
    /// `"model"`.
    ModelObject::Model = "model"
);

/// A served model.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Model {
    /// The name clients put in `model`.
    pub id: String,
    pub object: ModelObject,
    /// Unix seconds (when the server loaded it).
    pub created: u64,
    pub owned_by: String,
    /// The context length in tokens (vLLM's field; clients use it to size prompts).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_model_len: Option<usize>,
}

impl Model {
    pub fn new(id: impl Into<String>, created: u64, owned_by: impl Into<String>) -> Model {
        Model { id: id.into(), object: ModelObject::Model, created, owned_by: owned_by.into(), max_model_len: None }
    }
}

/// `{"object": "list", "data": [...]}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ModelList {
    pub object: ListObject,
    pub data: Vec<Model>,
}

impl ModelList {
    pub fn new(data: Vec<Model>) -> ModelList {
        ModelList { object: ListObject::List, data }
    }
}
