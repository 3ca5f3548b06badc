//! Function order for compression: rewrites a wasm module with its function bodies grouped by
//! signature and, within a signature, chained by likeness (each next to the one it deflates best
//! after), so that gzip, whose matches reach back 32 KB, finds them: one generic's
//! instantiations, one export shim after another. The linker's order scatters them.
//!
//! The module's behaviour is unchanged: the same functions under new indices, every reference
//! (calls, `ref.func`, the function table's elements, exports, the start function) renumbered
//! through one map, and the output validated before it is written. On the page's bundle it
//! saves 15 KB served gzip (345.2 → 330.3 KB; see BENCHMARKS.md, "The bundle with its functions
//! in order").

use std::path::Path;

use wasm_encoder::reencode::{self, Reencode};
use wasmparser::{FunctionBody, Parser, Payload};

use crate::run::Failure;

/// Rewrites the module at `path` in place with its functions in compression order.
pub fn reorder_functions(path: &Path) -> Result<(), Failure> {
    let wasm = std::fs::read(path).map_err(Failure::io("read the wasm bundle"))?;
    let out = reordered(&wasm).map_err(|e| Failure(format!("reordering the wasm bundle: {e}")))?;
    std::fs::write(path, out).map_err(Failure::io("write the wasm bundle"))
}

/// The module `wasm` with its functions in compression order, validated.
pub fn reordered(wasm: &[u8]) -> Result<Vec<u8>, String> {
    let order = compression_order(wasm)?;
    let mut renumber = Renumber::new(order);
    let mut module = wasm_encoder::Module::new();
    renumber
        .parse_core_module(&mut module, Parser::new(0), wasm)
        .map_err(|e| e.to_string())?;
    let out = module.finish();
    wasmparser::Validator::new_with_features(wasmparser::WasmFeatures::all())
        .validate_all(&out)
        .map_err(|e| format!("the reordered module does not validate: {e}"))?;
    Ok(out)
}

/// The defined functions' signatures and bodies, in the linker's order.
struct Defined<'a> {
    types: Vec<u32>,
    bodies: Vec<&'a [u8]>,
}

/// How many functions of the same signature, nearest in size, are tried for the next place
/// (300 with an 8,000-byte context: 0.4 KB served gzip less than 100 with 4,000, in about twice
/// the time, ~30 s; BENCHMARKS.md, *The bundle, room for issues 16 and 17*).
const CANDIDATES: usize = 300;
/// How much of the bodies already placed (the last `CONTEXT` bytes of the last
/// `CONTEXT_FUNCTIONS`) a candidate is compressed after: gzip reaches 32 KB back, but the
/// nearest functions decide most of a match. 16,000 bytes of 16: 0.5 KB served gzip less than
/// 8,000 of 8 (331,307 → 330,781 bytes at 26edc2a), in about 100 s rather than 40; 32,000 of 32
/// gave no more (330,827) in twice that.
const CONTEXT: usize = 16_000;
const CONTEXT_FUNCTIONS: usize = 16;

/// The defined functions' new order: `order[new] = old`, both counted from the first defined
/// function (after the imports). By signature (functions of one signature are alike: one
/// generic's instantiations, wasm-bindgen's shims), and within a signature a greedy chain from
/// the smallest function: next comes, of the nearest in size, the one that deflates smallest
/// (per byte) after the bodies placed last. Deterministic: the same module gives the same order.
fn compression_order(wasm: &[u8]) -> Result<Vec<u32>, String> {
    let defined = defined_functions(wasm)?;
    if defined.types.len() != defined.bodies.len() {
        return Err("the function and code sections disagree".into());
    }
    let mut by_type: Vec<u32> = (0..defined.types.len() as u32).collect();
    // Stable: ties keep the linker's order.
    by_type.sort_by_key(|&f| (defined.types[f as usize], defined.bodies[f as usize].len()));
    let mut order = Vec::with_capacity(by_type.len());
    for group in by_type.chunk_by(|&a, &b| defined.types[a as usize] == defined.types[b as usize]) {
        chain(group, &defined.bodies, &mut order);
    }
    Ok(order)
}

/// Appends `group` (sorted by size) to `order` as a greedy chain of likeness.
fn chain(group: &[u32], bodies: &[&[u8]], order: &mut Vec<u32>) {
    let size = |f: u32| bodies[f as usize].len();
    let mut left: Vec<u32> = group.to_vec();
    let start = order.len();
    let mut context = Vec::new();
    while !left.is_empty() {
        let next = match order[start..].last() {
            None => 0,
            Some(&last) => {
                context.clear();
                for &f in &order[start.max(order.len().saturating_sub(CONTEXT_FUNCTIONS))..] {
                    context.extend_from_slice(bodies[f as usize]);
                }
                let context = &context[context.len().saturating_sub(CONTEXT)..];
                let base = deflated(context, &[]);
                let cost = |i: usize| {
                    let body = bodies[left[i] as usize];
                    (deflated(context, body).saturating_sub(base)) as f64 / body.len().max(1) as f64
                };
                nearest_in_size(&left, size, size(last))
                    .min_by(|&a, &b| cost(a).total_cmp(&cost(b)).then(a.cmp(&b)))
                    .unwrap_or(0)
            }
        };
        order.push(left.remove(next));
    }
}

/// The positions in `left` (sorted by size) of the `CANDIDATES` functions nearest `target` in
/// size.
fn nearest_in_size(
    left: &[u32],
    size: impl Fn(u32) -> usize,
    target: usize,
) -> impl Iterator<Item = usize> {
    let mid = left.partition_point(|&f| size(f) < target);
    let (mut lo, mut hi) = (mid, mid);
    while hi - lo < CANDIDATES.min(left.len()) {
        let below = (lo > 0).then(|| target - size(left[lo - 1]));
        let above = (hi < left.len()).then(|| size(left[hi]) - target);
        match (below, above) {
            (Some(b), Some(a)) if b <= a => lo -= 1,
            (Some(_), None) => lo -= 1,
            _ => hi += 1,
        }
    }
    lo..hi
}

/// The deflated size (zlib level 9) of `a` then `b`.
fn deflated(a: &[u8], b: &[u8]) -> usize {
    let mut both = Vec::with_capacity(a.len() + b.len());
    both.extend_from_slice(a);
    both.extend_from_slice(b);
    miniz_oxide::deflate::compress_to_vec(&both, 9).len()
}

fn defined_functions(wasm: &[u8]) -> Result<Defined<'_>, String> {
    let mut defined = Defined {
        types: Vec::new(),
        bodies: Vec::new(),
    };
    for payload in Parser::new(0).parse_all(wasm) {
        match payload.map_err(|e| e.to_string())? {
            Payload::FunctionSection(functions) => {
                for ty in functions {
                    defined.types.push(ty.map_err(|e| e.to_string())?);
                }
            }
            Payload::CodeSectionEntry(body) => defined.bodies.push(&wasm[body.range()]),
            _ => {}
        }
    }
    Ok(defined)
}

/// The re-encoder: every function index through `new_index`, and the function and code
/// sections written in the new order.
struct Renumber {
    imported: u32,
    order: Vec<u32>,
    new_index: Vec<u32>,
}

impl Renumber {
    fn new(order: Vec<u32>) -> Self {
        let mut new_index = vec![0; order.len()];
        for (new, &old) in order.iter().enumerate() {
            new_index[old as usize] = new as u32;
        }
        Renumber {
            imported: 0,
            order,
            new_index,
        }
    }
}

impl Reencode for Renumber {
    type Error = String;

    fn function_index(&mut self, func: u32) -> Result<u32, reencode::Error<String>> {
        if func < self.imported {
            return Ok(func);
        }
        let defined = (func - self.imported) as usize;
        self.new_index
            .get(defined)
            .map(|new| self.imported + new)
            .ok_or_else(|| reencode::Error::UserError(format!("no function {func}")))
    }

    fn parse_import_section(
        &mut self,
        imports: &mut wasm_encoder::ImportSection,
        section: wasmparser::ImportSectionReader<'_>,
    ) -> Result<(), reencode::Error<String>> {
        for import in section.clone().into_imports() {
            // Every function import comes before the defined functions (an exact one too).
            if matches!(
                import?.ty,
                wasmparser::TypeRef::Func(_) | wasmparser::TypeRef::FuncExact(_)
            ) {
                self.imported += 1;
            }
        }
        reencode::utils::parse_import_section(self, imports, section)
    }

    fn parse_function_section(
        &mut self,
        functions: &mut wasm_encoder::FunctionSection,
        section: wasmparser::FunctionSectionReader<'_>,
    ) -> Result<(), reencode::Error<String>> {
        let types = section.into_iter().collect::<Result<Vec<u32>, _>>()?;
        for &old in &self.order.clone() {
            let ty = types[old as usize];
            functions.function(self.type_index(ty)?);
        }
        Ok(())
    }

    fn parse_code_section(
        &mut self,
        code: &mut wasm_encoder::CodeSection,
        section: wasmparser::CodeSectionReader<'_>,
    ) -> Result<(), reencode::Error<String>> {
        let bodies = section
            .into_iter()
            .collect::<Result<Vec<FunctionBody<'_>>, _>>()?;
        for &old in &self.order.clone() {
            self.parse_function_body(code, bodies[old as usize].clone())?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use wasm_encoder::{
        CodeSection, ConstExpr, ElementSection, Elements, EntityType, ExportKind, ExportSection,
        Function, FunctionSection, ImportSection, Instruction, Module, RefType, TableSection,
        TableType, TypeSection, ValType,
    };
    use wasmparser::{ExternalKind, Operator};

    use super::*;

    /// A module whose functions each start with `i32.const ID; drop`, defined out of
    /// signature order, calling each other directly, through the table and by export.
    fn module() -> Vec<u8> {
        let mut types = TypeSection::new();
        types.ty().function([ValType::I32], []); // 0: the import
        types.ty().function([ValType::I32], [ValType::I32]); // 1
        types
            .ty()
            .function([ValType::I32, ValType::I32], [ValType::I32]); // 2
        types.ty().function([], [ValType::I32]); // 3
        let mut imports = ImportSection::new();
        imports.import("env", "log", EntityType::Function(0));
        // Defined functions (indices from 1): 1 = caller (type 3), 2 = big (type 2),
        // 3 = long (type 1), 4 = short (type 1).
        let mut functions = FunctionSection::new();
        for ty in [3, 2, 1, 1] {
            functions.function(ty);
        }
        let mut table = TableSection::new();
        table.table(TableType {
            element_type: RefType::FUNCREF,
            table64: false,
            minimum: 2,
            maximum: None,
            shared: false,
        });
        let mut exports = ExportSection::new();
        exports.export("caller", ExportKind::Func, 1);
        exports.export("short", ExportKind::Func, 4);
        let mut elements = ElementSection::new();
        elements.active(
            Some(0),
            &ConstExpr::i32_const(0),
            Elements::Functions([4, 2][..].into()),
        );
        let mut code = CodeSection::new();
        let body = |id: i32, rest: &[Instruction<'_>]| {
            let mut f = Function::new([]);
            f.instruction(&Instruction::I32Const(id));
            f.instruction(&Instruction::Drop);
            for i in rest {
                f.instruction(i);
            }
            f.instruction(&Instruction::End);
            f
        };
        code.function(&body(
            10,
            &[
                Instruction::I32Const(1),
                Instruction::I32Const(2),
                Instruction::Call(2),
                Instruction::I32Const(0),
                Instruction::CallIndirect {
                    type_index: 1,
                    table_index: 0,
                },
                Instruction::Call(3),
            ],
        ));
        code.function(&body(
            20,
            &[
                Instruction::LocalGet(0),
                Instruction::LocalGet(1),
                Instruction::I32Add,
                Instruction::Call(4),
            ],
        ));
        code.function(&body(
            30,
            &[
                Instruction::LocalGet(0),
                Instruction::Call(0),
                Instruction::LocalGet(0),
                Instruction::I32Const(7),
                Instruction::I32Mul,
                Instruction::Call(4),
            ],
        ));
        code.function(&body(
            40,
            &[
                Instruction::RefFunc(2),
                Instruction::Drop,
                Instruction::LocalGet(0),
                Instruction::ReturnCall(3),
            ],
        ));
        let mut module = Module::new();
        module
            .section(&types)
            .section(&imports)
            .section(&functions)
            .section(&table)
            .section(&exports)
            .section(&elements)
            .section(&code);
        module.finish()
    }

    /// Each function by its ID: its signature and its operators with every function index
    /// (calls, exports, table elements) replaced by the ID of the function it names.
    fn structure(wasm: &[u8]) -> (Vec<String>, BTreeMap<i32, String>) {
        let mut types = Vec::new();
        let mut bodies = Vec::new();
        let mut exports = Vec::new();
        let mut elements = Vec::new();
        for payload in Parser::new(0).parse_all(wasm) {
            match payload.unwrap() {
                Payload::FunctionSection(s) => types = s.into_iter().map(Result::unwrap).collect(),
                Payload::CodeSectionEntry(body) => {
                    let ops = body.get_operators_reader().unwrap();
                    bodies.push(ops.into_iter().map(Result::unwrap).collect::<Vec<_>>());
                }
                Payload::ExportSection(s) => {
                    for e in s {
                        let e = e.unwrap();
                        assert_eq!(e.kind, ExternalKind::Func);
                        exports.push((e.name.to_owned(), e.index));
                    }
                }
                Payload::ElementSection(s) => {
                    for e in s {
                        if let wasmparser::ElementItems::Functions(f) = e.unwrap().items {
                            elements.extend(f.into_iter().map(Result::unwrap));
                        }
                    }
                }
                _ => {}
            }
        }
        let id = |func: u32| match func {
            0 => "log".to_owned(),
            f => match bodies[f as usize - 1][0] {
                Operator::I32Const { value } => value.to_string(),
                _ => panic!("function {f} has no ID"),
            },
        };
        let mut functions = BTreeMap::new();
        for (f, ops) in bodies.iter().enumerate() {
            let text: Vec<String> = ops
                .iter()
                .map(|op| match op {
                    Operator::Call { function_index } => format!("call {}", id(*function_index)),
                    Operator::ReturnCall { function_index } => {
                        format!("return_call {}", id(*function_index))
                    }
                    Operator::RefFunc { function_index } => {
                        format!("ref.func {}", id(*function_index))
                    }
                    op => format!("{op:?}"),
                })
                .collect();
            let Operator::I32Const { value } = ops[0] else {
                panic!("no ID")
            };
            functions.insert(value, format!("type {}: {}", types[f], text.join("; ")));
        }
        let mut refs: Vec<String> = exports
            .iter()
            .map(|(name, f)| format!("export {name} = {}", id(*f)))
            .collect();
        refs.extend(elements.iter().map(|&f| format!("element {}", id(f))));
        (refs, functions)
    }

    #[test]
    fn the_same_functions_reach_the_same_bodies() {
        let before = module();
        let after = reordered(&before).unwrap();
        assert_eq!(structure(&after), structure(&before));
        // And they moved: by signature, then by size.
        let ids: Vec<i32> = Parser::new(0)
            .parse_all(&after)
            .filter_map(|p| match p.unwrap() {
                Payload::CodeSectionEntry(body) => {
                    match body.get_operators_reader().unwrap().read().unwrap() {
                        Operator::I32Const { value } => Some(value),
                        _ => None,
                    }
                }
                _ => None,
            })
            .collect();
        assert_eq!(ids, [40, 30, 20, 10]);
    }
}
