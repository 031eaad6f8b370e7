//! [`Tensor`]: a dense row-major array of any rank, the value of an
//! expanded expression (a 2-D tensor for a matrix-form value, one axis per
//! left-hand-side index for an index form).
//!
//! Invariant: `data.len()` is the product of `shape`.

use std::fmt;

/// A dense row-major array.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Tensor<T> {
    shape: Vec<usize>,
    data: Vec<T>,
}

/// The row-major offset of `index` in `shape`.
fn offset(shape: &[usize], index: &[usize]) -> usize {
    index.iter().zip(shape).fold(0, |acc, (&i, &n)| acc * n + i)
}

/// Every index of `shape`, in row-major order.
pub fn indices(shape: &[usize]) -> impl Iterator<Item = Vec<usize>> + '_ {
    let total: usize = shape.iter().product();
    (0..total).map(move |mut k| {
        let mut index = vec![0; shape.len()];
        for axis in (0..shape.len()).rev() {
            index[axis] = k % shape[axis];
            k /= shape[axis];
        }
        index
    })
}

impl<T> Tensor<T> {
    /// A tensor from its shape and row-major data; `None` when the lengths
    /// disagree.
    pub fn new(shape: Vec<usize>, data: Vec<T>) -> Option<Tensor<T>> {
        (shape.iter().product::<usize>() == data.len()).then_some(Tensor { shape, data })
    }

    /// A tensor whose entry at each index is `f(index)`.
    pub fn try_from_fn<E>(
        shape: Vec<usize>,
        mut f: impl FnMut(&[usize]) -> Result<T, E>,
    ) -> Result<Tensor<T>, E> {
        let data = indices(&shape)
            .map(|index| f(&index))
            .collect::<Result<Vec<T>, E>>()?;
        Ok(Tensor { shape, data })
    }

    /// The lengths of the axes.
    pub fn shape(&self) -> &[usize] {
        &self.shape
    }

    /// The entries in row-major order.
    pub fn data(&self) -> &[T] {
        &self.data
    }

    /// The entries, consumed.
    pub fn into_data(self) -> Vec<T> {
        self.data
    }

    /// The entry at `index`, if it is in range.
    pub fn get(&self, index: &[usize]) -> Option<&T> {
        let inside =
            index.len() == self.shape.len() && index.iter().zip(&self.shape).all(|(i, n)| i < n);
        inside.then(|| &self.data[offset(&self.shape, index)])
    }

    /// The entries with their indices, in row-major order.
    pub fn entries(&self) -> impl Iterator<Item = (Vec<usize>, &T)> {
        indices(&self.shape).zip(self.data.iter())
    }

    /// The same entries under another shape of equal size.
    pub fn reshaped(self, shape: Vec<usize>) -> Option<Tensor<T>> {
        Tensor::new(shape, self.data)
    }

    /// Rows of a 2-D tensor (1 for other ranks below 2).
    pub fn rows(&self) -> usize {
        self.shape.first().copied().unwrap_or(1)
    }

    /// Columns of a 2-D tensor (1 for other ranks below 2).
    pub fn cols(&self) -> usize {
        self.shape.get(1).copied().unwrap_or(1)
    }
}

impl<T: Clone> Tensor<T> {
    /// A tensor with every entry `value`.
    pub fn filled(shape: Vec<usize>, value: T) -> Tensor<T> {
        let n = shape.iter().product();
        Tensor {
            shape,
            data: vec![value; n],
        }
    }

    /// The entry at `(i, j)` of a 2-D tensor (callers keep indices in range).
    pub(super) fn at(&self, i: usize, j: usize) -> &T {
        &self.data[i * self.cols() + j]
    }
}

impl<T: fmt::Display> fmt::Display for Tensor<T> {
    /// A matrix as bracketed aligned rows; a vector as a column; other
    /// ranks as one `[i,j,…] = value` line per entry (1-based).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (rows, cols) = match self.shape.as_slice() {
            [] => return write!(f, "{}", self.data[0]),
            [n] => (*n, 1),
            [r, c] => (*r, *c),
            _ => {
                for (index, value) in self.entries() {
                    let shown: Vec<String> = index.iter().map(|i| (i + 1).to_string()).collect();
                    writeln!(f, "[{}] = {value}", shown.join(","))?;
                }
                return Ok(());
            }
        };
        let cells: Vec<String> = self.data.iter().map(|v| v.to_string()).collect();
        let width: Vec<usize> = (0..cols)
            .map(|j| {
                (0..rows)
                    .map(|i| cells[i * cols + j].chars().count())
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        for i in 0..rows {
            let (open, close) = match (rows, i) {
                (1, _) => ('[', ']'),
                (_, 0) => ('⎡', '⎤'),
                (_, k) if k + 1 == rows => ('⎣', '⎦'),
                _ => ('⎢', '⎥'),
            };
            let line: Vec<String> = (0..cols)
                .map(|j| {
                    let cell = &cells[i * cols + j];
                    let pad = width[j] - cell.chars().count();
                    format!("{cell}{}", " ".repeat(pad))
                })
                .collect();
            write!(f, "{open}{}{close}", line.join("  "))?;
            if i + 1 < rows {
                writeln!(f)?;
            }
        }
        Ok(())
    }
}
