// Chinese for form-js's own words. form-js (1.x) has no translation hook: its words are written
// into the DOM, so a watcher replaces them there (text, placeholders, titles and aria labels),
// and its date picker, flatpickr, takes flatpickr's own zh locale. Used only on zh pages.
import flatpickr from "flatpickr";
import { Mandarin } from "flatpickr/dist/l10n/zh";

export const FORM_ZH = {
  Select: "请选择",
  Search: "搜索",
  "No results": "没有匹配项",
  "All values selected": "已全部选择",
  "Remove tag": "移除",
  "Skip to search": "跳到搜索",
  "Add new": "添加一项",
  Collapse: "收起",
  Delete: "删除",
  Date: "日期",
  Time: "时间",
  Browse: "选择文件",
  "No files selected": "未选择文件",
  "Nothing to show.": "没有可显示的内容。",
  "No content to show.": "没有可显示的内容。",
  "Previous page": "上一页",
  "Next page": "下一页",
  Increment: "加一",
  Decrement: "减一",
  "Click to remove sorting": "点击取消排序",
  "Unable to download document": "无法下载文件",
  "Field is required.": "必填。",
  "Field must be a valid email.": "请填写有效的电子邮箱。",
  "Value is not a number.": "请填写数字。",
  "Date and time must both be entered.": "日期和时间都要填写。",
  "This is an image placeholder": "图片占位",
  "Document preview": "文件预览",
};

// The form editor's own words (the modeler's form dialog): its palette, its properties panel.
export const FORM_EDITOR_ZH = {
  Components: "组件",
  "Search components": "搜索组件",
  Input: "输入",
  Selection: "选择",
  Presentation: "展示",
  Containers: "容器",
  Action: "操作",
  "Text field": "单行文本",
  "Text area": "多行文本",
  Number: "数字",
  "Date time": "日期时间",
  "Expression": "表达式",
  "File picker": "文件上传",
  Checkbox: "勾选框",
  "Checkbox group": "多选框组",
  "Radio group": "单选框组",
  Select: "下拉选择",
  "Tag list": "标签选择",
  "Text view": "文本",
  "Image view": "图片",
  Table: "表格",
  "HTML view": "HTML",
  "Document preview": "文件预览",
  Spacer: "空白",
  Separator: "分隔线",
  Group: "分组",
  "Dynamic list": "动态列表",
  iFrame: "内嵌页面",
  Button: "按钮",
  General: "常规",
  Condition: "条件",
  Appearance: "外观",
  Validation: "校验",
  Layout: "布局",
  "Custom properties": "自定义属性",
  Constraints: "约束",
  Serialization: "序列化",
  Options: "选项",
  "Options source": "选项来源",
  "Static options": "固定选项",
  "Dynamic options": "动态选项",
  "Input values key": "输入值的键",
  "Options expression": "选项表达式",
  "<none>": "<无>",
  "Allow add/delete items": "允许添加/删除条目",
  "Alternative text": "替代文字",
  Auto: "自动",
  Bottom: "底部",
  Center: "居中",
  Top: "顶部",
  Checked: "勾选",
  "Not checked": "未勾选",
  Column: "列",
  Columns: "列",
  "Compute on": "计算时机",
  Content: "内容",
  "Custom error message": "自定义错误提示",
  "Custom regular expression": "自定义正则表达式",
  Custom: "自定义",
  "Data source": "数据来源",
  "Date label": "日期标签",
  "Time label": "时间标签",
  "Decimal digits": "小数位数",
  "Default number of items": "默认条目数",
  "Default value": "默认值",
  "Disable collapse": "禁止收起",
  Disabled: "禁用",
  "Disallow past dates": "不允许过去的日期",
  "Document reference": "文件引用",
  Email: "电子邮箱",
  "Field description": "字段说明",
  "Field label": "字段标签",
  "Form submission": "表单提交",
  "Header items": "表头",
  "Headers source": "表头来源",
  Height: "高度",
  ID: "ID",
  "Image source": "图片地址",
  Key: "键",
  Label: "标签",
  "List of items": "条目列表",
  "Max height of preview container": "预览区最大高度",
  "Maximum length": "最大长度",
  Maximum: "最大值",
  "Minimum length": "最小长度",
  Minimum: "最小值",
  "Number of non-collapsing items": "不收起的条目数",
  "Number of rows per page": "每页行数",
  "Output as string": "输出为字符串",
  Pagination: "分页",
  Path: "路径",
  Phone: "电话",
  Prefix: "前缀",
  Suffix: "后缀",
  "Read only": "只读",
  Required: "必填",
  Reset: "重置",
  Searchable: "可搜索",
  "Security attributes": "安全属性",
  "Show outline": "显示边框",
  Submit: "提交",
  Subtype: "子类型",
  "Supported file formats": "支持的文件格式",
  "Target value": "目标值",
  Text: "文本",
  "Time format": "时间格式",
  "Time interval": "时间间隔",
  Type: "类型",
  URL: "网址",
  "Upload multiple files": "允许多个文件",
  "Use 24h": "24 小时制",
  "Validation pattern": "校验格式",
  Value: "值",
  "Value changes": "值变化时",
  "Version tag": "版本标签",
  "Vertical alignment": "垂直对齐",
  Description: "说明",
  "Create new list item": "新建条目",
  "Toggle section": "展开/收起",
  "Section contains edits": "此部分已修改",
  "Section contains an error": "此部分有错误",
  "Toggle list item": "展开/收起条目",
  "Delete item": "删除条目",
  "Open documentation": "打开说明",
  "Drag and drop components here to start designing.": "把组件拖到这里开始设计表单。",
  "Use the preview to navigate between forms.": "用预览查看表单。",
};

const PATTERNS = [
  [/^Expand all \((\d+)\)$/, (n) => `全部展开（${n}）`],
  [/^(\d+) files? selected$/, (n) => `已选择 ${n} 个文件`],
  [/^Create an? (.+) element$/, (name) => `创建${FORM_EDITOR_ZH[name] || name}`],
  [/^Remove (.+)$/, (name) => `删除${FORM_EDITOR_ZH[name] || name}`],
  // The date field's format hint (the browser's locale): mm/dd/yyyy -> 月/日/年.
  [
    /^(mm|dd|yyyy)([./-])(mm|dd|yyyy)\2(mm|dd|yyyy)$/,
    (...parts) => parts.map((p) => ({ mm: "月", dd: "日", yyyy: "年" })[p] || p).join(""),
  ],
];

const ATTRIBUTES = ["placeholder", "title", "aria-label", "alt"];

function zh(text, words, patterns) {
  const key = text.trim();
  if (!key) return null;
  if (Object.hasOwn(words, key)) return text.replace(key, words[key]);
  for (const [pattern, make] of patterns) {
    const match = pattern.exec(key);
    if (match) return text.replace(key, make(...match.slice(1)));
  }
  return null;
}

function translateNode(node, words, patterns) {
  if (node.nodeType === Node.TEXT_NODE) {
    const text = zh(node.nodeValue, words, patterns);
    if (text !== null && text !== node.nodeValue) node.nodeValue = text;
    return;
  }
  if (node.nodeType !== Node.ELEMENT_NODE) return;
  // The bpmn.io watermark stays as it is (its licence).
  if (node.closest(".fjs-powered-by, .bjs-powered-by")) return;
  for (const name of ATTRIBUTES) {
    const value = node.getAttribute(name);
    if (value === null) continue;
    const text = zh(value, words, patterns);
    if (text !== null && text !== value) node.setAttribute(name, text);
  }
  for (const child of node.childNodes) translateNode(child, words, patterns);
}

// Replaces the words (exact texts, and patterns) in what is rendered into root, now and from
// now on: for libraries, or parts of them, that write English without a translation hook.
export function translateDom(root, words, patterns = []) {
  translateNode(root, words, patterns);
  const observer = new MutationObserver((records) => {
    for (const record of records) {
      if (record.type === "attributes" || record.type === "characterData") {
        translateNode(record.target, words, patterns);
      } else {
        for (const node of record.addedNodes) translateNode(node, words, patterns);
      }
    }
  });
  observer.observe(root, {
    subtree: true,
    childList: true,
    characterData: true,
    attributes: true,
    attributeFilter: ATTRIBUTES,
  });
  return observer;
}

let localized = false;

// Translates what form-js has rendered into root, and what it renders there from now on.
export function translateForm(root, { editor = false } = {}) {
  if (!localized) {
    flatpickr.localize(Mandarin); // every date picker made from now on
    localized = true;
  }
  return translateDom(root, editor ? { ...FORM_ZH, ...FORM_EDITOR_ZH } : FORM_ZH, PATTERNS);
}
